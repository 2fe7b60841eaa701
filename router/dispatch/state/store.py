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
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
import structlog

from router.dispatch.state.codec import employer_match_key
from router.dispatch.state.keys import ALERT_PREFIX, LOOP_PREFIX, REPORT_PREFIX
from router.dispatch.state.slots import SlotClaim, claim_slot

log = structlog.get_logger(__name__)

_SEP = "\x1f"
_IN_CHUNK = 500
_CACHE_KIB = 64 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS person_employer (
    token TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (token, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS employer_time (
    employer TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
    anonymous INTEGER NOT NULL, PRIMARY KEY (employer, at, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    employer_key TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
    persons TEXT NOT NULL, people INTEGER NOT NULL, PRIMARY KEY (employer_key, at, seq))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_employer (
    employer_key TEXT NOT NULL, raised INTEGER NOT NULL, alert_id TEXT NOT NULL,
    PRIMARY KEY (employer_key, raised, alert_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_at ON timers (at);
CREATE TABLE IF NOT EXISTS checkpoint (partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_P = ParamSpec("_P")
_R = TypeVar("_R")

HistoryRow = tuple[int, int, str, list[str], int]  # (at µs, seq, report key, persons, people)


@dataclass
class _Derived:
    """Index rows derived from new keys' values."""

    person_employer: list[tuple[str, str]] = field(default_factory=list)
    employer_time: list[tuple[str, int, int, str, int]] = field(default_factory=list)
    history: list[tuple[str, int, int, str, str, int]] = field(default_factory=list)
    alert_employer: list[tuple[str, int, str]] = field(default_factory=list)
    next_seq: int = 0

    def add(self, key: str, raw: dict[str, Any]) -> None:
        """Add the index rows of a report or alert value."""
        if key.startswith(REPORT_PREFIX):
            self._add_report(key, raw)
        elif key.startswith(ALERT_PREFIX) and raw.get("employer_key") is not None:
            self.alert_employer.append(
                (raw["employer_key"], raw["raised_report_at"], key[len(ALERT_PREFIX) :])
            )

    def _add_report(self, key: str, raw: dict[str, Any]) -> None:
        seq: int = raw["seq"]
        first = raw["first"]
        self.next_seq = max(self.next_seq, seq + 1)
        match = first["employer_match"]
        if match is None:
            return
        persons: list[str] = first["persons"]
        at: int = first["at"]
        anonymous = 0 if persons else 1
        for employer in employer_tokens_of(match[0], match[1]):
            for person in persons:
                self.person_employer.append((person + _SEP + employer, key))
            self.employer_time.append((employer, at, seq, key, anonymous))
        self.history.append(
            (
                employer_match_key(match[0], match[1]),
                at,
                seq,
                key,
                orjson.dumps(persons).decode(),
                first["people"],
            )
        )


@dataclass
class _Overlay:
    """Index rows of uncommitted new keys, by what the queries look up."""

    person_employer: dict[str, list[str]] = field(default_factory=dict)
    employer_time: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)
    history: dict[str, list[tuple[int, int, str, str, int]]] = field(default_factory=dict)
    alert_employer: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    next_seq: int = 0

    def add(self, rows: _Derived) -> None:
        """Index the rows derived from one new key."""
        for token, key in rows.person_employer:
            self.person_employer.setdefault(token, []).append(key)
        for employer, at, seq, key, anonymous in rows.employer_time:
            self.employer_time.setdefault(employer, []).append((at, seq, key, anonymous))
        for ekey, at, seq, key, persons, people in rows.history:
            self.history.setdefault(ekey, []).append((at, seq, key, persons, people))
        for ekey, raised, alert_id in rows.alert_employer:
            self.alert_employer.setdefault(ekey, []).append((raised, alert_id))
        self.next_seq = max(self.next_seq, rows.next_seq)


def employer_tokens_of(uscc: str | None, name: str | None) -> list[str]:
    """Index tokens of an employer (as :func:`router.dispatch.matching.employer_tokens`)."""
    tokens = []
    if uscc:
        tokens.append("u:" + uscc)
    if name:
        tokens.append("n:" + name)
    return tokens


def person_employer_token(person: str, employer: str) -> str:
    """Index token of one person token with one employer token."""
    return person + _SEP + employer


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
        self._overlay = _Overlay()
        self._next_seq = 0
        self._live = 0
        self._broken = False

    # --- lifecycle ---------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The sqlite file, once claimed (None in memory)."""
        return self._slot.path / "state.sqlite" if self._slot is not None else None

    def checkpoint(self) -> dict[int, int] | None:
        """Changelog partition -> next offset the store has applied; None if it holds nothing.

        A store broken by a sqlite error (or unreadable) is emptied first: None.
        """
        if self._broken:
            log.warning("state store failed; rebuilding it")
            self.clear()
            return None
        try:
            rows = self._db().execute("SELECT partition, next_offset FROM checkpoint").fetchall()
        except sqlite3.DatabaseError as exc:
            log.warning("state store unreadable; rebuilding it", error=type(exc).__name__)
            self.clear()
            return None
        return {int(p): int(o) for p, o in rows} or None

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
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        self._db()

    def discard(self) -> None:
        """Forget every write not committed yet."""
        self._pending.clear()
        self._dirty.clear()
        self._taken.clear()
        self._overlay = _Overlay()

    def close(self) -> None:
        """Close the database and release the slot."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    def live_keys(self) -> int:
        """Committed live keys (reports, cases, alerts)."""
        self._db()
        return self._live

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
        batch = [*self._replay, *self._taken.items()]
        self._flush(batch, ends)
        self._replay.clear()
        for key, value in self._taken.items():
            if key not in self._dirty and self._pending.get(key, b"") is value:
                del self._pending[key]
        self._taken.clear()
        if not self._pending:
            self._overlay = _Overlay()

    # --- reads and writes ------------------------------------------------------------

    @_breaks_on_error
    def get(self, key: str) -> bytes | None:
        """The value of ``key``: uncommitted writes first, then the committed state."""
        if key in self._pending:
            return self._pending[key]
        row = self._read().execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def put(self, key: str, value: bytes | None, *, new: bool = False) -> None:
        """Write ``key`` (``None`` deletes); ``new``: the key did not exist (index it)."""
        self._pending[key] = value
        self._dirty.add(key)
        if new and value is not None and key.startswith((REPORT_PREFIX, ALERT_PREFIX)):
            rows = _Derived()
            rows.add(key, orjson.loads(value))
            self._overlay.add(rows)

    @property
    def next_seq(self) -> int:
        """One past the highest report arrival number held."""
        self._read()
        return max(self._next_seq, self._overlay.next_seq)

    # --- index queries (committed rows merged with the overlay) ------------------------

    @_breaks_on_error
    def person_employer_keys(self, tokens: list[str]) -> set[str]:
        """Report keys indexed under any of ``tokens`` (see :func:`person_employer_token`)."""
        found: set[str] = set()
        db = self._read()
        for start in range(0, len(tokens), _IN_CHUNK):
            chunk = tokens[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in db.execute(
                    f"SELECT key FROM person_employer WHERE token IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        for token in tokens:
            found.update(self._overlay.person_employer.get(token, ()))
        return found

    @_breaks_on_error
    def employer_window(self, employer: str, lo: int, hi: int, *, anonymous: bool) -> set[str]:
        """Report keys of ``employer`` reported within [lo, hi] µs (only anonymous ones)."""
        sql = "SELECT key FROM employer_time WHERE employer = ? AND at BETWEEN ? AND ?"
        if anonymous:
            sql += " AND anonymous = 1"
        found = {r[0] for r in self._read().execute(sql, (employer, lo, hi))}
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
        for at, seq, key, persons, people in self._read().execute(
            "SELECT at, seq, key, persons, people FROM history "
            "WHERE employer_key = ? AND at BETWEEN ? AND ?",
            (employer_key, lo, hi),
        ):
            rows[key] = (at, seq, key, orjson.loads(persons), people)
        for at, seq, key, persons, people in self._overlay.history.get(employer_key, ()):
            if lo <= at <= hi and key not in rows:
                rows[key] = (at, seq, key, orjson.loads(persons), people)
        return sorted(rows.values(), key=lambda r: (r[0], r[1]))

    @_breaks_on_error
    def alerts_of(self, employer_key: str, lo: int, hi: int) -> list[str]:
        """Ids of alerts of ``employer_key`` raised by reports within [lo, hi] µs, in order."""
        found = {
            (raised, alert_id)
            for raised, alert_id in self._read().execute(
                "SELECT raised, alert_id FROM alert_employer "
                "WHERE employer_key = ? AND raised BETWEEN ? AND ?",
                (employer_key, lo, hi),
            )
        }
        found.update(
            (raised, alert_id)
            for raised, alert_id in self._overlay.alert_employer.get(employer_key, ())
            if lo <= raised <= hi
        )
        return [alert_id for _, alert_id in sorted(found)]

    @_breaks_on_error
    def due_loops(self, until_us: int, limit: int) -> list[str]:
        """Keys of case loop states whose next look is due by ``until_us``, earliest first.

        The "look" of each ``l/`` value is indexed (table ``timers``) whenever the
        value is written; uncommitted writes are looked at first.
        """
        rows = self._read().execute(
            "SELECT key, at FROM timers WHERE at <= ? ORDER BY at LIMIT ?", (until_us, limit)
        )
        found: dict[str, int] = {key: at for key, at in rows if key not in self._pending}
        for key, value in self._pending.items():
            if key.startswith(LOOP_PREFIX) and value is not None:
                at = _look(value)
                if at is not None and at <= until_us:
                    found[key] = at
        return sorted(found, key=lambda k: found[k])[:limit]

    # --- sqlite --------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _read(self) -> sqlite3.Connection:
        db = self._db()
        if self._replay:  # restored without a checkpoint (tests, or a caller that reads early)
            self._flush(self._replay, {})
            self._replay.clear()
        return db

    def _open(self) -> sqlite3.Connection:
        if self._root is None:
            conn = sqlite3.connect(":memory:", isolation_level=None)
        else:
            if self._slot is None:
                self._slot = claim_slot(self._root)
            path = self._slot.path / "state.sqlite"
            try:
                conn = _connect(path)
            except sqlite3.DatabaseError as exc:
                log.warning("state store unreadable; starting empty", error=type(exc).__name__)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                conn = _connect(path)
        conn.executescript(_SCHEMA)
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        self._next_seq = int(meta.get("next_seq", 0))
        self._live = int(meta.get("live", 0))
        return conn

    def _flush(self, batch: Iterable[tuple[str, bytes | None]], ends: dict[int, int]) -> None:
        db = self._db()
        last: dict[str, bytes | None] = dict(batch)  # the last write of a key wins
        keys = list(last)
        existing: set[str] = set()
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            existing.update(
                r[0]
                for r in db.execute(f"SELECT key FROM kv WHERE key IN ({marks})", chunk)  # noqa: S608
            )
        puts = [(k, v) for k, v in last.items() if v is not None]
        deletes = [(k,) for k, v in last.items() if v is None and k in existing]
        derived = _Derived(next_seq=self._next_seq)
        added = 0
        for key, value in puts:
            if key not in existing:
                added += 1
                if key.startswith((REPORT_PREFIX, ALERT_PREFIX)):
                    derived.add(key, orjson.loads(value))
        live = self._live + added - len(deletes)
        timers = [(k, at) for k, v in puts if k.startswith(LOOP_PREFIX) and (at := _look(v))]
        untimed = [(k,) for k, v in last.items() if k.startswith(LOOP_PREFIX) and not _look(v)]
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO timers VALUES (?, ?)", timers)
            db.executemany("DELETE FROM timers WHERE key = ?", untimed)
            db.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", puts)
            db.executemany("DELETE FROM kv WHERE key = ?", deletes)
            db.executemany(
                "INSERT OR IGNORE INTO person_employer VALUES (?, ?)", derived.person_employer
            )
            db.executemany(
                "INSERT OR IGNORE INTO employer_time VALUES (?, ?, ?, ?, ?)", derived.employer_time
            )
            db.executemany(
                "INSERT OR IGNORE INTO history VALUES (?, ?, ?, ?, ?, ?)", derived.history
            )
            db.executemany(
                "INSERT OR IGNORE INTO alert_employer VALUES (?, ?, ?)", derived.alert_employer
            )
            db.executemany(
                "INSERT OR REPLACE INTO checkpoint (partition, next_offset) VALUES (?, ?)",
                sorted(ends.items()),
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("next_seq", derived.next_seq), ("live", live)],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._next_seq = derived.next_seq
        self._live = live


def _look(value: bytes | None) -> int | None:
    """When a case loop value next needs a look (µs), None for never or a deletion."""
    if value is None:
        return None
    look = orjson.loads(value).get("look")
    return int(look) if look is not None else None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=256)
    # The slot is this process's alone (flock): exclusive locking spares every statement
    # the WAL's shared-memory locking (set before WAL mode, it never uses shared memory).
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a corrupt file
    return conn
