"""The dispatch store's sqlite file: its tables, its connection settings, every statement on it.

The store (:mod:`router.dispatch.state.store`) decides WHEN state is durable
(overlay, commit, discard, restore); this module holds HOW it sits in sqlite:
``kv`` (every live changelog key and value), the four index tables (rows from
:mod:`router.dispatch.state.index`), ``timers`` (when each case loop next needs a
look), ``checkpoint`` (changelog partition ->
next offset applied) and ``meta`` (the counters), and the one sqlite
transaction that applies a committed batch together with its checkpoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from router.dispatch.state.index import IndexRows, is_indexed, look_of
from router.dispatch.state.keys import LOOP_PREFIX

STATE_FILE = "state.sqlite"
_IN_CHUNK = 500  # parameters per IN (...) query
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

# A history row as stored: (at µs, seq, report key, persons as a JSON list, people).
StoredHistoryRow = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class Counters:
    """What the file counts besides its rows (table ``meta``)."""

    next_seq: int = 0  # one past the highest report arrival number
    live: int = 0  # live keys in ``kv``


# --- the file ----------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the sqlite file at ``path``; ``DatabaseError`` if the file is corrupt."""
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


def connect_in_memory() -> sqlite3.Connection:
    """A connection to a new in-memory database (a store without a directory)."""
    return sqlite3.connect(":memory:", isolation_level=None)


def delete_files(path: Path) -> None:
    """Delete the sqlite file at ``path`` and its WAL files; missing ones are no error."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def create_tables(db: sqlite3.Connection) -> Counters:
    """Create the tables the database lacks; the counters it holds."""
    db.executescript(_SCHEMA)
    meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
    return Counters(next_seq=int(meta.get("next_seq", 0)), live=int(meta.get("live", 0)))


# --- reads -------------------------------------------------------------------------


def read_checkpoint(db: sqlite3.Connection) -> dict[int, int]:
    """Changelog partition -> next offset applied (empty: nothing applied)."""
    rows = db.execute("SELECT partition, next_offset FROM checkpoint").fetchall()
    return {int(p): int(o) for p, o in rows}


def read_value(db: sqlite3.Connection, key: str) -> bytes | None:
    """The committed value of ``key``, None if it has none."""
    row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return bytes(row[0]) if row is not None else None


def person_employer_keys(db: sqlite3.Connection, tokens: list[str]) -> set[str]:
    """Committed report keys indexed under any of ``tokens``."""
    return _first_column_in(db, "SELECT key FROM person_employer WHERE token IN", tokens)


def employer_window_keys(
    db: sqlite3.Connection, employer: str, lo: int, hi: int, *, anonymous: bool
) -> set[str]:
    """Committed report keys of ``employer`` reported within [lo, hi] µs (only anonymous ones)."""
    sql = "SELECT key FROM employer_time WHERE employer = ? AND at BETWEEN ? AND ?"
    if anonymous:
        sql += " AND anonymous = 1"
    return {r[0] for r in db.execute(sql, (employer, lo, hi))}


def history_rows(
    db: sqlite3.Connection, employer_key: str, lo: int, hi: int
) -> list[StoredHistoryRow]:
    """Committed history rows of ``employer_key`` reported within [lo, hi] µs, in no order."""
    return db.execute(
        "SELECT at, seq, key, persons, people FROM history "
        "WHERE employer_key = ? AND at BETWEEN ? AND ?",
        (employer_key, lo, hi),
    ).fetchall()


def alert_rows(db: sqlite3.Connection, employer_key: str, lo: int, hi: int) -> set[tuple[int, str]]:
    """(raising report time µs, id) of committed alerts of ``employer_key`` raised in [lo, hi]."""
    return {
        (raised, alert_id)
        for raised, alert_id in db.execute(
            "SELECT raised, alert_id FROM alert_employer "
            "WHERE employer_key = ? AND raised BETWEEN ? AND ?",
            (employer_key, lo, hi),
        )
    }


def due_timers(db: sqlite3.Connection, until_us: int, limit: int) -> list[tuple[str, int]]:
    """Committed (key, look µs) of case loops due by ``until_us``, earliest first."""
    return db.execute(
        "SELECT key, at FROM timers WHERE at <= ? ORDER BY at LIMIT ?", (until_us, limit)
    ).fetchall()


def _first_column_in(db: sqlite3.Connection, select: str, values: list[str]) -> set[str]:
    """First column of ``select`` (ending in ``IN``) over ``values``, a bounded chunk at a time."""
    found: set[str] = set()
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in db.execute(f"{select} ({marks})", chunk))
    return found


# --- the write ---------------------------------------------------------------------


def apply_committed(
    db: sqlite3.Connection,
    batch: Iterable[tuple[str, bytes | None]],
    ends: dict[int, int],
    counters: Counters,
) -> Counters:
    """Apply committed writes (``None`` deletes) and checkpoint ``ends`` in one transaction.

    The last write of a key wins; a key new to the file gets its index rows.
    Returns the counters now in the file (unchanged in it if this raises).
    """
    last: dict[str, bytes | None] = dict(batch)
    existing = _first_column_in(db, "SELECT key FROM kv WHERE key IN", list(last))
    puts = [(k, v) for k, v in last.items() if v is not None]
    deletes = [(k,) for k, v in last.items() if v is None and k in existing]
    rows = IndexRows(next_seq=counters.next_seq)
    added = 0
    for key, value in puts:
        if key not in existing:
            added += 1
            if is_indexed(key):
                rows.add(key, orjson.loads(value))
    after = Counters(next_seq=rows.next_seq, live=counters.live + added - len(deletes))
    looks = {k: look_of(k, v) for k, v in last.items() if k.startswith(LOOP_PREFIX)}
    timed = [(k, at) for k, at in looks.items() if at is not None]
    untimed = [(k,) for k, at in looks.items() if at is None]
    db.execute("BEGIN")
    try:
        db.executemany("INSERT OR REPLACE INTO timers VALUES (?, ?)", timed)
        db.executemany("DELETE FROM timers WHERE key = ?", untimed)
        db.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", puts)
        db.executemany("DELETE FROM kv WHERE key = ?", deletes)
        _insert_index_rows(db, rows)
        db.executemany(
            "INSERT OR REPLACE INTO checkpoint (partition, next_offset) VALUES (?, ?)",
            sorted(ends.items()),
        )
        db.executemany(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            [("next_seq", after.next_seq), ("live", after.live)],
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return after


# --- a full replay into an empty file ----------------------------------------------------

_BULK_SCHEMA = """
CREATE TABLE IF NOT EXISTS bulk_kv (key TEXT NOT NULL, value BLOB);
CREATE TABLE IF NOT EXISTS bulk_person_employer (token TEXT NOT NULL, key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_employer_time (
    employer TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
    anonymous INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_history (
    employer_key TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
    persons TEXT NOT NULL, people INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_alert_employer (
    employer_key TEXT NOT NULL, raised INTEGER NOT NULL, alert_id TEXT NOT NULL);
"""
# Each index table and its primary key, the order its rows go in fastest.
_INDEX_KEYS = {
    "person_employer": "token, key",
    "employer_time": "employer, at, seq",
    "history": "employer_key, at, seq",
    "alert_employer": "employer_key, raised, alert_id",
}


def bulk_load(
    db: sqlite3.Connection,
    batch: Iterable[tuple[str, bytes | None]],
    ends: dict[int, int],
    next_seq: int,
) -> int:
    """Replayed records of a full replay, appended to unindexed tables; the next seq so far.

    A full replay into an emptied file (Kafka Streams' bulk-loading restore):
    records and their index rows go to plain append-only tables, with the
    checkpoint, and :func:`finish_bulk_load` builds the real, indexed tables
    from them once, in key order. A key's index rows come from fields that
    never change, so rows from any of its values are the rows of its first.
    Durability is relaxed meanwhile (an interrupted replay starts over).
    """
    rows = IndexRows(next_seq=next_seq)
    records = list(batch)
    for key, value in records:
        if value is not None and is_indexed(key):
            rows.add(key, orjson.loads(value))
    db.executescript(_BULK_SCHEMA)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    try:
        db.executemany("INSERT INTO bulk_kv VALUES (?, ?)", records)
        db.executemany("INSERT INTO bulk_person_employer VALUES (?, ?)", rows.person_employer)
        db.executemany("INSERT INTO bulk_employer_time VALUES (?, ?, ?, ?, ?)", rows.employer_time)
        db.executemany("INSERT INTO bulk_history VALUES (?, ?, ?, ?, ?, ?)", rows.history)
        db.executemany("INSERT INTO bulk_alert_employer VALUES (?, ?, ?)", rows.alert_employer)
        db.executemany(
            "INSERT OR REPLACE INTO checkpoint (partition, next_offset) VALUES (?, ?)",
            sorted(ends.items()),
        )
        db.execute("INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", (rows.next_seq,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return rows.next_seq


def has_bulk_load(db: sqlite3.Connection) -> bool:
    """Whether a full replay's appended rows wait to be built (the file was closed first)."""
    row = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'bulk_kv'").fetchone()
    return row is not None


def finish_bulk_load(db: sqlite3.Connection) -> Counters:
    """The indexed tables built from a full replay's appended rows, in key order, at once."""
    db.executescript(_BULK_SCHEMA)  # a replay of an empty log appended nothing
    next_seq = create_tables(db).next_seq
    # The sorts below spill to temporary files: in memory, a million cases' would hold
    # gigabytes at once (the process's resident size for as long as it runs).
    db.execute("PRAGMA temp_store=FILE")
    db.execute("BEGIN")
    try:
        # In key order, each key's records in log order: the last value of a key wins, and a
        # key whose last record is a tombstone (an empty blob here: no value is empty) goes.
        db.execute(
            "INSERT OR REPLACE INTO kv (key, value) SELECT key, coalesce(value, x'') "
            "FROM bulk_kv ORDER BY key, rowid"
        )
        db.execute("DELETE FROM kv WHERE value = x''")
        for table, key_columns in _INDEX_KEYS.items():
            db.execute(
                f"INSERT OR IGNORE INTO {table} SELECT * FROM bulk_{table} "  # noqa: S608
                f"ORDER BY {key_columns}"
            )
        loops = db.execute("SELECT key, value FROM kv WHERE key GLOB ?", (LOOP_PREFIX + "*",))
        timers = [(key, at) for key, value in loops if (at := look_of(key, value)) is not None]
        db.executemany("INSERT OR REPLACE INTO timers VALUES (?, ?)", timers)
        live = int(db.execute("SELECT count(*) FROM kv").fetchone()[0])
        counters = Counters(next_seq=next_seq, live=live)
        db.executemany(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            [("next_seq", counters.next_seq), ("live", counters.live)],
        )
        for table in ("kv", *_INDEX_KEYS):
            db.execute(f"DROP TABLE bulk_{table}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA temp_store=MEMORY")
    return counters


def _insert_index_rows(db: sqlite3.Connection, rows: IndexRows) -> None:
    db.executemany("INSERT OR IGNORE INTO person_employer VALUES (?, ?)", rows.person_employer)
    db.executemany("INSERT OR IGNORE INTO employer_time VALUES (?, ?, ?, ?, ?)", rows.employer_time)
    db.executemany("INSERT OR IGNORE INTO history VALUES (?, ?, ?, ?, ?, ?)", rows.history)
    db.executemany("INSERT OR IGNORE INTO alert_employer VALUES (?, ?, ?)", rows.alert_employer)
