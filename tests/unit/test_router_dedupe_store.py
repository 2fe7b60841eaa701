"""The dispatch stage's local store: overlay, commits, checkpoint, slots, restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from router.dispatch.engine import DedupeEngine, Outcome, OutcomeKind
from router.dispatch.state.keys import report_key
from router.dispatch.state.legacy import upgrade
from router.dispatch.state.slots import claim_slot
from router.dispatch.state.store import DispatchStore
from schemas.complaint import NormalizedReport
from tests.unit.router_builders import id_number, mobile, report


def reports() -> list[NormalizedReport]:
    return [
        report(appeal_id="A", phone=mobile(1)),
        report(appeal_id="B", id_no=id_number(2)),
        report(appeal_id="C", phone=mobile(3)),
        report(appeal_id="D", phone=mobile(1), id_no=id_number(2)),  # merges A and B
        report(appeal_id="A", phone=mobile(1), version=2),
    ]


def decisions(outcomes: list[Outcome]) -> list[tuple[object, ...]]:
    return [(o.kind, o.case, o.merged, o.seq) for o in outcomes]


def test_writes_are_readable_at_once_and_reach_sqlite_only_when_committed(tmp_path: Path) -> None:
    store = DispatchStore(tmp_path)
    store.put("c/x", b'{"v":1}', new=True)
    assert store.get("c/x") == b'{"v":1}'
    assert store.take() == [("c/x", b'{"v":1}')]
    assert store.get("c/x") == b'{"v":1}'  # in flight: still read from the overlay
    store.close()
    # A process that dies (or is fenced) before the commit leaves nothing behind.
    reopened = DispatchStore(tmp_path)
    assert reopened.get("c/x") is None
    assert reopened.checkpoint() is None
    reopened.put("c/x", b'{"v":2}', new=True)
    reopened.take()
    reopened.committed({0: 7})
    reopened.close()
    again = DispatchStore(tmp_path)
    assert again.get("c/x") == b'{"v":2}'
    assert again.checkpoint() == {0: 7}
    assert again.live_keys() == 1


def test_discard_drops_uncommitted_writes_and_keeps_the_committed_state() -> None:
    store = DispatchStore()
    store.put("c/x", b"1", new=True)
    store.take()
    store.committed({0: 1})
    store.put("c/x", None)
    store.put("c/y", b"2", new=True)
    store.discard()
    assert store.get("c/x") == b"1"
    assert store.get("c/y") is None
    assert store.take() == []


def test_replayed_batches_apply_last_writes_tombstones_and_count_live_keys() -> None:
    store = DispatchStore()
    for key, value in [("c/a", b"1"), ("c/b", b"2"), ("c/a", b"3"), ("c/b", None)]:
        store.restore(key, value)
    store.committed({0: 4})
    store.restore("c/c", b"4")
    store.restore("c/zzz", None)  # a tombstone of a key never seen
    store.committed({0: 6})
    assert (store.get("c/a"), store.get("c/b"), store.get("c/c")) == (b"3", None, b"4")
    assert store.live_keys() == 2
    assert store.checkpoint() == {0: 6}


def test_engine_restarted_on_its_store_decides_like_one_uninterrupted_run(tmp_path: Path) -> None:
    *before, late = reports()
    extra = report(appeal_id="E", phone=mobile(3))
    one = DedupeEngine()
    expected = decisions([one.observe(r) for r in [*before, late, extra]])

    store = DispatchStore(tmp_path)
    first = DedupeEngine(store)
    got = [first.observe(r) for r in before]
    changes = first.take_changes()
    store.committed({0: len(changes)})
    store.close()

    reopened = DispatchStore(tmp_path)
    assert reopened.checkpoint() == {0: len(changes)}
    second = DedupeEngine(reopened)
    got += [second.observe(late), second.observe(extra)]
    assert decisions(got) == expected


def test_a_store_rebuilt_from_the_changelog_equals_the_original() -> None:
    original = DedupeEngine()
    changelog: list[tuple[str, bytes | None]] = []
    for r in reports():
        original.observe(r)
        changelog += original.take_changes()
    store = DispatchStore()
    for key, value in changelog:
        store.restore(key, value)
    store.committed({0: len(changelog)})
    restored = DedupeEngine(store)
    late = report(appeal_id="F", id_no=id_number(2), phone=mobile(3))  # joins the two cases
    assert decisions([restored.observe(late)]) == decisions([original.observe(late)])
    assert restored.take_changes() == original.take_changes()


def test_a_full_replay_into_an_emptied_store_bulk_loads_the_same_tables(tmp_path: Path) -> None:
    """The bulk path (clear, then replay) and the row-by-row path give the same file."""
    engine = DedupeEngine()
    changelog: list[tuple[str, bytes | None]] = []
    for r in reports():
        engine.observe(r)
        changelog += engine.take_changes()
    assert any(value is None for _, value in changelog)  # the merge deleted a case

    def dump(store: DispatchStore) -> list[str]:
        db = store._read()
        return sorted(line for line in db.iterdump() if "bulk_" not in line)  # rows, any order

    row_by_row = DispatchStore(tmp_path / "a")
    bulk = DispatchStore(tmp_path / "b")
    bulk.clear()  # an emptied store: the next replay is a full one
    for store in (row_by_row, bulk):
        for start in range(0, len(changelog), 3):  # several replayed batches
            for key, value in changelog[start : start + 3]:
                store.restore(key, value)
            store.committed({0: min(start + 3, len(changelog))})
    assert dump(bulk) == dump(row_by_row)
    assert (bulk.live_keys(), bulk.next_seq) == (row_by_row.live_keys(), row_by_row.next_seq)


def test_clear_empties_the_store() -> None:
    store = DispatchStore()
    engine = DedupeEngine(store)
    for r in reports():
        engine.observe(r)
    engine.take_changes()
    store.committed({0: 9})
    store.clear()
    assert store.checkpoint() is None
    assert store.live_keys() == 0
    assert store.next_seq == 0


def test_a_corrupt_store_file_is_rebuilt_empty(tmp_path: Path) -> None:
    store = DispatchStore(tmp_path)
    store.put("c/x", b"1", new=True)
    store.take()
    store.committed({0: 1})
    path = store.path
    store.close()
    assert path is not None
    path.write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    broken = DispatchStore(tmp_path)
    assert broken.checkpoint() is None
    assert broken.get("c/x") is None


def test_two_processes_never_share_a_slot_and_a_restart_gets_its_slot_back(
    tmp_path: Path,
) -> None:
    first = claim_slot(tmp_path)
    second = claim_slot(tmp_path)
    assert first.path != second.path
    first.release()
    third = claim_slot(tmp_path)
    assert third.path == first.path
    second.release()
    third.release()


def test_a_sqlite_error_breaks_the_store_and_the_next_restore_starts_it_empty(
    tmp_path: Path,
) -> None:
    store = DispatchStore(tmp_path)
    store.put("c/x", b"1", new=True)
    store.take()
    store.committed({0: 1})
    # Stand-in for a file that went bad under the open connection: its tables are gone.
    store._conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.DatabaseError):
        store.get("c/x")
    assert store.checkpoint() is None  # broken: emptied, so the runtime replays it all
    assert store.get("c/x") is None
    store.restore("c/x", b"1")
    store.committed({0: 1})
    assert (store.get("c/x"), store.checkpoint()) == (b"1", {0: 1})
    store.close()


def test_state_written_in_the_old_format_is_upgraded_on_restore() -> None:
    """Changelogs from before the compact format (whole pydantic dumps) still restore."""
    first = report(appeal_id="A", phone=mobile(1))
    key = report_key(first.channel, first.external_id)
    old_report = {
        "seq": 0,
        "first": first.model_copy(update={"summary": ""}).model_dump(mode="json"),
        "case_id": "case-old",
        "versions": [first.version],
        "latest_version_key": first.version_key,
    }
    old_case = {
        "case_id": "case-old",
        "dispatch_seq": 0,
        "placement": first.placement.model_dump(mode="json"),
        "sources": [{"channel": str(first.channel), "external_id": first.external_id}],
    }
    store = DispatchStore()
    for k, value in ((key, old_report), ("c/case-old", old_case)):
        store.restore(k, upgrade(k, orjson.dumps(value)))
    store.committed({0: 2})
    engine = DedupeEngine(store)
    assert engine.observe(first).kind is OutcomeKind.REPEAT
    again = engine.observe(report(appeal_id="D", phone=mobile(1)))
    assert again.kind is OutcomeKind.DUPLICATE_REPORT
    assert again.case is not None
    assert again.case.case_id == "case-old"
    assert [s.external_id for s in again.case.sources] == [first.external_id, "D"]


def test_only_old_format_values_are_converted() -> None:
    new_value = b'{"seq":0,"case":"c","versions":["1"],"latest":"k","first":{}}'
    assert upgrade("r/citizen_app/A", new_value) is new_value
    assert upgrade("r/citizen_app/A", None) is None
