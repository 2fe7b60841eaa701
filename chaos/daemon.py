"""The daemon under test: ``python -m unionhub run`` as a subprocess, killed and restarted.

Each incarnation logs to its own file (``daemon-<n>.log``). :class:`AdminApi`
is the admin REST API as an operator uses it (bearer token).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]


class DaemonProcess:
    """One daemon at a time, started with ``environment``, its logs in ``log_dir``."""

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self._environment = environment
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self.kills = 0

    @property
    def running(self) -> bool:
        """Whether the current incarnation is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start a new incarnation (the previous one must be gone)."""
        if self.running:
            raise RuntimeError("the daemon is already running")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log = self._log_dir / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "unionhub", "run"],
                cwd=REPO_ROOT,
                env=self._environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def kill(self) -> None:
        """SIGKILL the current incarnation (no clean shutdown at all) and reap it."""
        process = self._process
        if process is None or process.poll() is not None:
            raise RuntimeError("no running daemon to kill")
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 30)
        self.kills += 1

    async def stop(self, grace_s: float = 30.0) -> int | None:
        """SIGTERM the current incarnation; its exit code (SIGKILL after ``grace_s``)."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(process.wait, grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 30)
            return None

    def exit_code(self) -> int | None:
        """The current incarnation's exit code, None while it runs."""
        return self._process.poll() if self._process is not None else None


def daemon_environment(
    *,
    bootstrap: str,
    namespace: str,
    http_port: int,
    admin_token: str,
    pseudonym_key: str,
    secrets_dir: Path,
    state_dir: Path,
) -> dict[str, str]:
    """The daemon's environment: this process's plus the run's ``UNIONHUB_*`` settings."""
    return {
        **os.environ,
        "UNIONHUB_KAFKA_BOOTSTRAP": bootstrap,
        "UNIONHUB_NAMESPACE": namespace,
        "UNIONHUB_HTTP_PORT": str(http_port),
        "UNIONHUB_ADMIN_TOKEN": admin_token,
        "UNIONHUB_PSEUDONYM_KEY": pseudonym_key,
        "UNIONHUB_SECRETS_DIR": str(secrets_dir),
        "UNIONHUB_STATE_DIR": str(state_dir),
        "UNIONHUB_LOG_FORMAT": "json",
        "UNIONHUB_LOG_LEVEL": "info",
        "UNIONHUB_ROUTER_SESSION_TIMEOUT_MS": "6000",  # the broker's minimum: fast failover
    }


class AdminApi:
    """The daemon's HTTP API at ``base_url``, as an admin holding ``token`` calls it."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base_url = base_url
        self._headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One call; its status and JSON body (None if not JSON); status 0 if unreachable."""
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(
                    method, self._base_url + path, headers=self._headers, json=body
                ) as resp,
            ):
                data = await resp.json() if resp.content_type == "application/json" else None
                return resp.status, data
        except (aiohttp.ClientError, TimeoutError):
            return 0, None

    async def healthy(self) -> bool:
        """Whether ``/healthz`` answers 200."""
        return (await self.call("GET", "/healthz"))[0] == 200

    async def ready(self) -> bool:
        """Whether ``/readyz`` answers 200 (broker reachable, configs read, router ready)."""
        return (await self.call("GET", "/readyz"))[0] == 200

    async def put_config(self, name: str, config: dict[str, Any]) -> bool:
        """``PUT /connectors/<name>/config``; True when stored."""
        status, _ = await self.call("PUT", f"/connectors/{name}/config", config)
        return status in (200, 201)

    async def pause(self, name: str) -> bool:
        """``PUT /connectors/<name>/pause``; True when accepted."""
        status, _ = await self.call("PUT", f"/connectors/{name}/pause")
        return 200 <= status < 300

    async def state(self, name: str) -> str | None:
        """The connector's state (``RUNNING``, ``FAILED``, ``PAUSED`` ...), None if unknown."""
        status, body = await self.call("GET", f"/connectors/{name}/status")
        if status != 200 or not isinstance(body, dict):
            return None
        connector = body.get("connector")
        state = connector.get("state") if isinstance(connector, dict) else None
        return str(state) if state is not None else None
