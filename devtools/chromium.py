"""Headless Chromium from Debian's packages, and a small DevTools-protocol client over aiohttp.

:class:`HeadlessChromium` starts ``/usr/bin/chromium`` with the flags this
machine needs (headless, no sandbox as root, no GPU, no QUIC, no first run, no
background networking, component updates or sync) and a fresh
``--user-data-dir``, on a DevTools port it picks itself (read back from the
profile's ``DevToolsActivePort``). :class:`Page` drives one tab over the
DevTools websocket: navigate, evaluate, wait for a condition the page itself
reports (a promise the test awaits, no sleeping), screenshot, set a phone-sized
viewport.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from core.errors import UnionhubError

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)


class BrowserError(UnionhubError):
    """Chromium is missing, did not start, or a DevTools call failed."""


def find_chromium() -> str:
    """The Chromium binary (Debian's package ``chromium``)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found is not None:
            return found
    raise BrowserError("chromium not found: install Debian's chromium (make system-deps)")


class Page:
    """One tab, driven over its DevTools websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._expected: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = message.json()
            future = self._waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
            elif "method" in data:
                self.events.append(data)
                for waiter in self._expected.pop(data["method"], []):
                    if not waiter.done():
                        waiter.set_result(data)

    def expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        """A future of the next ``method`` event (ask before doing what causes it)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._expected.setdefault(method, []).append(future)
        return future

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (a protocol error raises :class:`BrowserError`)."""
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self._ws.send_json({"id": call_id, "method": method, "params": params})
        answer = await asyncio.wait_for(future, 60)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    async def goto(self, url: str) -> None:
        """Navigate and return once the new document has loaded."""
        loaded = self.expect("Page.loadEventFired")
        await self.call("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 30)

    async def follow(self, script: str) -> None:
        """Run ``script`` (a click, a submit) and return once the page it leads to has loaded."""
        loaded = self.expect("Page.loadEventFired")
        await self.evaluate(script)
        await asyncio.wait_for(loaded, 30)

    async def wait_for(self, condition: str, timeout_s: float = 20.0) -> None:
        """Until the page's own ``condition`` holds (checked on each DOM change and frame)."""
        script = f"""new Promise((resolve, reject) => {{
            const ok = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
            if (ok()) return resolve(true);
            const timer = setTimeout(() => {{ seen.disconnect(); reject(new Error("timeout")); }},
                                     {int(timeout_s * 1000)});
            const seen = new MutationObserver(() => {{
                if (ok()) {{ clearTimeout(timer); seen.disconnect(); resolve(true); }} }});
            seen.observe(document, {{subtree: true, childList: true, attributes: true,
                                     characterData: true}});
        }})"""
        try:
            await self.evaluate(script)
        except BrowserError as exc:
            raise BrowserError(f"not reached within {timeout_s:.0f}s: {condition}") from exc

    async def screenshot(self, path: Path) -> Path:
        """The page as a PNG at ``path`` (the whole page)."""
        result = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(_write, path, base64.b64decode(result["data"]))
        return path

    async def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Emulate a screen of ``width`` x ``height`` CSS pixels (a phone with ``mobile``)."""
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=2 if mobile else 1, mobile=mobile,
        )  # fmt: skip

    async def close(self) -> None:
        """Stop reading and close the socket."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._ws.close()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class HeadlessChromium:
    """A Chromium process with a fresh profile under ``profile``; stopped by :meth:`stop`."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self._process: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    async def start(self, timeout_s: float = 30.0) -> None:
        """Start Chromium and wait for its DevTools port."""
        self._process = await asyncio.to_thread(self._spawn)
        active = self.profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not active.exists() or not active.read_text().strip():
            if self._process.poll() is not None or loop.time() > deadline:
                raise BrowserError(f"chromium did not start; see {self.profile / 'chromium.log'}")
            await asyncio.sleep(0.1)  # a starting process writes a file: nothing to await
        self.port = int(active.read_text().split()[0])
        self._session = aiohttp.ClientSession()

    def _spawn(self) -> subprocess.Popen[bytes]:
        shutil.rmtree(self.profile, ignore_errors=True)
        self.profile.mkdir(parents=True)
        with (self.profile / "chromium.log").open("wb") as log:
            return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [find_chromium(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Page]:
        """A new tab (closed on exit)."""
        if self._session is None:
            raise BrowserError("start() the browser first")
        base = f"http://127.0.0.1:{self.port}"
        async with self._session.put(f"{base}/json/new?about:blank") as response:
            target = await response.json()
        ws = await self._session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        try:
            await page.call("Page.enable")
            await page.call("Runtime.enable")
            yield page
        finally:
            await page.close()
            async with self._session.get(f"{base}/json/close/{target['id']}"):
                pass

    async def stop(self) -> None:
        """Stop Chromium and remove its profile."""
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                await asyncio.to_thread(self._process.wait, 10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                await asyncio.to_thread(self._process.wait)
        shutil.rmtree(self.profile, ignore_errors=True)
