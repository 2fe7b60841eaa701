"""The dispatch stage's local state store: the committed changelog in sqlite, plus an overlay.

The compacted changelog stays the source of truth. This store materialises
the COMMITTED part of it in one sqlite file (WAL): every live key with its
value (table ``kv``), the index tables derived from report and alert values
(written once, when a key first appears: the fields they use never change),
and, in the same sqlite transaction, the changelog offsets applied up to
(``checkpoint``: partition -> next offset). Memory stays small: sqlite's page
cache is bounded, and only the writes not yet committed to Kafka live in
Python (the overlay, which every read consults first).

Life of a write: :meth:`put` (overlay) -> :meth:`take` (the runtime writes it
to the changelog in its transaction) -> :meth:`committed` (the transaction
committed: into sqlite with the new checkpoint) or :meth:`discard` (aborted:
dropped; sqlite still equals the committed state). A changelog replay feeds
:meth:`restore` and, per fetched batch, :meth:`committed` with the offsets
reached, so the replay is batched into sqlite (one ``executemany`` per table).

This module holds that life cycle and the reads that merge the overlay with
the committed rows; the file's tables and statements are
:mod:`router.dispatch.state.database`, the index rows and the overlay's
lookups :mod:`router.dispatch.state.index`.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import orjson
import structlog

from router.dispatch.state import database
from router.dispatch.state.database import STATE_FILE, Counters
from router.dispatch.state.index import IndexRows, OverlayIndex, is_indexed, look_of
from router.dispatch.state.slots import SlotClaim, claim_slot

log = structlog.get_logger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")

HistoryRow = tuple[int, int, str, list[str], int]  # (at µs, seq, report key, persons, people)


def _breaks_on_error(
    method: Callable[Concatenate[DispatchStore, _P], _R],
) -> Callable[Concatenate[DispatchStore, _P], _R]:
    """A sqlite error (corrupt file, full disk) marks the store broken, then propagates.

    The processor's failure aborts the transaction; the runtime's restore then
    finds no checkpoint (:meth:`DispatchStore.checkpoint`) and replays it all
    into a new file.
    """

    @functools.wraps(method)
    def guarded(self: DispatchStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError:
            self._broken = True
            raise

    return guarded


class DispatchStore:
    """Committed dispatch state in sqlite (``root`` None: an in-memory database) plus overlay.

    With a ``root`` directory the store claims a private slot under it on first
    use (see :mod:`router.dispatch.state.slots`) and keeps ``state.sqlite`` there.
    """

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._slot: SlotClaim | None = None
        self._conn: sqlite3.Connection | None = None
        self._pending: dict[str, bytes | None] = {}
        self._dirty: set[str] = set()
        self._taken: dict[str, bytes | None] = {}
        self._replay: list[tuple[str, bytes | None]] = []
        self._overlay = OverlayIndex()
        self._counters = Counters()
        self._broken = False
        # An emptied file being filled by a full replay (see database.bulk_load).
        self._bulk = False

    # --- lifecycle ---------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The sqlite file, once claimed (None in memory)."""
        return self._slot.path / STATE_FILE if self._slot is not None else None

    def checkpoint(self) -> dict[int, int] | None:
        """Changelog partition -> next offset the store has applied; None if it holds nothing.

        A store broken by a sqlite error (or unreadable) is emptied first: None.
        """
        if self._broken:
            log.warning("state store failed; rebuilding it")
            self.clear()
            return None
        try:
            applied = database.read_checkpoint(self._db())
        except sqlite3.DatabaseError as exc:
            log.warning("state store unreadable; rebuilding it", error=type(exc).__name__)
            self.clear()
            return None
        return applied or None

    def clear(self) -> None:
        """Empty the store and the overlay (before a full replay)."""
        self.discard()
        self._replay.clear()
        self._broken = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        path = self.path
        if path is not None:
            database.delete_files(path)
        self._db()
        self._bulk = True

    def discard(self) -> None:
        """Forget every write not committed yet."""
        self._pending.clear()
        self._dirty.clear()
        self._taken.clear()
        self._overlay = OverlayIndex()

    def close(self) -> None:
        """Close the database and release the slot."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    def live_keys(self) -> int:
        """Committed live keys (reports, cases, alerts); during a full replay, those before it."""
        self._db()
        return self._counters.live

    @_breaks_on_error
    def replayed(self) -> None:
        """A changelog replay is over: a full one's indexed tables are built now."""
        self._finish_bulk()

    # --- the changelog's side ----------------------------------------------------------

    def take(self) -> list[tuple[str, bytes | None]]:
        """Writes since the last call (sorted by key), for the changelog; they stay readable."""
        out = [(key, self._pending[key]) for key in sorted(self._dirty)]
        self._taken.update(out)
        self._dirty.clear()
        return out

    def restore(self, key: str, value: bytes | None) -> None:
        """Buffer one replayed changelog record (applied at the next :meth:`committed`)."""
        self._replay.append((key, value))

    @_breaks_on_error
    def committed(self, ends: dict[int, int]) -> None:
        """Taken writes and replayed records are committed up to ``ends``: apply them."""
        if self._bulk and not self._taken:
            next_seq = database.bulk_load(self._db(), self._replay, ends, self._counters.next_seq)
            self._counters = Counters(next_seq=next_seq, live=self._counters.live)
            self._replay.clear()
            return
        self._finish_bulk()
        batch = [*self._replay, *self._taken.items()]
        self._flush(batch, ends)
        self._replay.clear()
        for key, value in self._taken.items():
            if key not in self._dirty and self._pending.get(key, b"") is value:
                del self._pending[key]
        self._taken.clear()
        if not self._pending:
            self._overlay = OverlayIndex()

    # --- reads and writes ------------------------------------------------------------

    @_breaks_on_error
    def get(self, key: str) -> bytes | None:
        """The value of ``key``: uncommitted writes first, then the committed state."""
        if key in self._pending:
            return self._pending[key]
        return database.read_value(self._read(), key)

    def put(self, key: str, value: bytes | None, *, new: bool = False) -> None:
        """Write ``key`` (``None`` deletes); ``new``: the key did not exist (index it)."""
        self._pending[key] = value
        self._dirty.add(key)
        if new and value is not None and is_indexed(key):
            rows = IndexRows()
            rows.add(key, orjson.loads(value))
            self._overlay.add(rows)

    @property
    def next_seq(self) -> int:
        """One past the highest report arrival number held."""
        self._read()
        return max(self._counters.next_seq, self._overlay.next_seq)

    # --- index queries (committed rows merged with the overlay) ------------------------

    @_breaks_on_error
    def person_employer_keys(self, tokens: list[str]) -> set[str]:
        """Report keys indexed under any of ``tokens`` (see :func:`.person_employer_token`)."""
        found = database.person_employer_keys(self._read(), tokens)
        for token in tokens:
            found.update(self._overlay.person_employer.get(token, ()))
        return found

    @_breaks_on_error
    def employer_window(self, employer: str, lo: int, hi: int, *, anonymous: bool) -> set[str]:
        """Report keys of ``employer`` reported within [lo, hi] µs (only anonymous ones)."""
        found = database.employer_window_keys(self._read(), employer, lo, hi, anonymous=anonymous)
        found.update(
            key
            for at, _seq, key, anon in self._overlay.employer_time.get(employer, ())
            if lo <= at <= hi and (anon or not anonymous)
        )
        return found

    @_breaks_on_error
    def history(self, employer_key: str, lo: int, hi: int) -> list[HistoryRow]:
        """Reports of ``employer_key`` within [lo, hi] µs, by (time, seq)."""
        rows: dict[str, HistoryRow] = {}
        for at, seq, key, persons, people in database.history_rows(
            self._read(), employer_key, lo, hi
        ):
            rows[key] = (at, seq, key, orjson.loads(persons), people)
        for at, seq, key, persons, people in self._overlay.history.get(employer_key, ()):
            if lo <= at <= hi and key not in rows:
                rows[key] = (at, seq, key, orjson.loads(persons), people)
        return sorted(rows.values(), key=lambda r: (r[0], r[1]))

    @_breaks_on_error
    def alerts_of(self, employer_key: str, lo: int, hi: int) -> list[str]:
        """Ids of alerts of ``employer_key`` raised by reports within [lo, hi] µs, in order."""
        found = database.alert_rows(self._read(), employer_key, lo, hi)
        found.update(
            (raised, alert_id)
            for raised, alert_id in self._overlay.alert_employer.get(employer_key, ())
            if lo <= raised <= hi
        )
        return [alert_id for _, alert_id in sorted(found)]

    @_breaks_on_error
    def due_loops(self, until_us: int, limit: int) -> list[str]:
        """Keys of case loop states whose next look is due by ``until_us``, earliest first
        (uncommitted writes first: a pending value's own look decides)."""
        found = {
            key: at
            for key, at in database.due_timers(self._read(), until_us, limit)
            if key not in self._pending
        }
        for key, value in self._pending.items():
            at = look_of(key, value)
            if at is not None and at <= until_us:
                found[key] = at
        return sorted(found, key=lambda k: found[k])[:limit]

    # --- sqlite --------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _finish_bulk(self) -> None:
        """After a full replay: the indexed tables built from what it appended."""
        if self._bulk:
            self._bulk = False
            self._counters = database.finish_bulk_load(self._db())

    def _read(self) -> sqlite3.Connection:
        db = self._db()
        self._finish_bulk()
        if self._replay:  # restored without a checkpoint (tests, or a caller that reads early)
            self._flush(self._replay, {})
            self._replay.clear()
        return db

    def _open(self) -> sqlite3.Connection:
        if self._root is None:
            conn = database.connect_in_memory()
        else:
            if self._slot is None:
                self._slot = claim_slot(self._root)
            path = self._slot.path / STATE_FILE
            try:
                conn = database.connect(path)
            except sqlite3.DatabaseError as exc:
                log.warning("state store unreadable; starting empty", error=type(exc).__name__)
                database.delete_files(path)
                conn = database.connect(path)
        self._counters = database.create_tables(conn)
        if database.has_bulk_load(conn):  # closed (or killed) before its first read
            self._counters = database.finish_bulk_load(conn)
        return conn

    def _flush(self, batch: Iterable[tuple[str, bytes | None]], ends: dict[int, int]) -> None:
        self._counters = database.apply_committed(self._db(), batch, ends, self._counters)
