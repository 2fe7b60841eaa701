"""One private directory per process under a shared root, held by an exclusive ``flock``.

Two processes on one machine (two routers sharing a state dir, a failover
standby) must never open the same store file at once. Each claims the first
``slot-<n>`` directory whose lock file it can ``flock``; the lock lasts until
:meth:`SlotClaim.release`, the claim is garbage-collected or the process
ends, so a restarted single process gets its slot (and its store) back.
"""

from __future__ import annotations

import fcntl
import os
import weakref
from pathlib import Path

_MAX_SLOTS = 64


class SlotClaim:
    """An exclusively held slot directory; :attr:`path` is this process's own."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        # Closing the descriptor drops the flock; done at release or garbage collection.
        self._release = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        """Unlock the slot (another process may claim it afterwards)."""
        self._release()


def claim_slot(root: Path) -> SlotClaim:
    """Claim the first free ``root/slot-<n>`` (created if needed); OSError if none is free."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(_MAX_SLOTS):
        path = root / f"slot-{n}"
        path.mkdir(exist_ok=True)
        fd = os.open(path / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return SlotClaim(path, fd)
    raise OSError(f"all {_MAX_SLOTS} state slots under {root} are in use")
