"""A real daemon (``python -m unionhub run``) for the integration tests: started, asked, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from core.settings import Settings
from tests.conftest import REPO_ROOT
from tests.kafka_helpers import eventually

TOKEN = "test-admin-token-5f0c2a"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningDaemon:
    """A ``python -m unionhub run`` subprocess and where it serves and logs."""

    process: asyncio.subprocess.Process
    base_url: str
    log_path: Path

    def log_text(self) -> str:
        """Everything the daemon logged so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def call(
        self, method: str, path: str, *, token: str | None = TOKEN, json: Any = None
    ) -> tuple[int, Any]:
        """One HTTP call; the status and the JSON body (or the text, or None)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.base_url + path, headers=headers, json=json) as resp,
        ):
            text = await resp.text()
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, text or None


@contextlib.asynccontextmanager
async def running_daemon(
    settings: Settings, tmp_path: Path, *extra_args: str, env: dict[str, str] | None = None
) -> AsyncIterator[RunningDaemon]:
    """Start the daemon; yield once it is ready; SIGTERM it on exit (and check it stopped)."""
    port = free_port()
    environment = {
        **os.environ,
        "UNIONHUB_NAMESPACE": settings.namespace,
        "UNIONHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "UNIONHUB_STATE_DIR": str(settings.state_dir),
        "UNIONHUB_HTTP_PORT": str(port),
        "UNIONHUB_ADMIN_TOKEN": TOKEN,
        "UNIONHUB_LOG_FORMAT": "json",
        **(env or {}),
    }
    log_path = tmp_path / f"daemon-{port}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "unionhub",
            "run",
            *extra_args,
            cwd=REPO_ROOT,
            env=environment,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    daemon = RunningDaemon(process, f"http://127.0.0.1:{port}", log_path)
    try:

        async def ready() -> bool:
            assert process.returncode is None, daemon.log_text()[-3000:]
            with contextlib.suppress(aiohttp.ClientError):
                status, _ = await daemon.call("GET", "/readyz", token=None)
                return status == 200
            return False

        await eventually(ready, timeout_s=60)
        yield daemon
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()
