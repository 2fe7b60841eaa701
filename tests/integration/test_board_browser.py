"""The live board in a real browser (Debian's headless Chromium over the DevTools protocol)
against the real daemon: log in with a token posted once, see a case dispatched during the
test appear within seconds with no reload, open it, and a district's session refused another
district's case and board. Screenshots of the board (desktop and phone), the case and the
refusal are saved as test artifacts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.chromium import HeadlessChromium, Page
from router.dispatch.engine import case_id_for
from tests.conftest import ARTIFACTS
from tests.integration.daemon_harness import RunningDaemon, running_daemon
from tests.integration.test_case_api import CITY, FUTIAN, NANSHAN, report, set_tokens

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[HeadlessChromium]:
    chromium = HeadlessChromium(tmp_path / "chromium-profile")
    await chromium.start()
    try:
        yield chromium
    finally:
        await chromium.stop()


async def log_in(page: Page, daemon: RunningDaemon, token: str) -> None:
    """Through the login page, as a person would: the token typed into the form, posted."""
    await page.goto(daemon.base_url + "/board")
    assert await page.evaluate("location.pathname") == "/board/login"
    await page.follow(
        f"document.getElementById('token').value = {token!r};"
        "document.getElementById('login').click(); true"
    )
    assert await page.evaluate("location.pathname") == "/board"
    assert token not in await page.evaluate("location.href")
    assert "unionhub_board" not in await page.evaluate("document.cookie"), "HttpOnly"
    await page.wait_for("document.getElementById('live').classList.contains('on')")
    await page.wait_for("document.getElementById('week').textContent.length > 0")


async def log_out(page: Page) -> None:
    await page.follow("document.getElementById('logout').click(); true")
    assert await page.evaluate("location.pathname") == "/board/login"


async def test_the_board_shows_a_new_case_live_opens_it_and_keeps_districts_apart(
    settings: Settings, topics: TopicCatalog, tmp_path: Path, browser: HeadlessChromium
) -> None:
    await set_tokens(settings, {"nanshan": NANSHAN, "futian": FUTIAN, "city": CITY})
    async with running_daemon(settings, tmp_path) as daemon, browser.page() as page:
        await page.viewport(1366, 900)
        # A wrong token: back to the login page, told so.
        await page.goto(daemon.base_url + "/board/login")
        await page.follow(
            "document.getElementById('token').value = 'not-a-token';"
            "document.getElementById('login').click(); true"
        )
        assert await page.evaluate("!document.getElementById('failed').hidden")

        await log_in(page, daemon, CITY)
        assert "全市" in await page.evaluate("document.getElementById('scope-name').textContent")
        await page.evaluate("window.__sameDocument = 'board-loaded-once'")

        appeal = "MY-BOARD-1"
        case_id = case_id_for("citizen_app", appeal)
        sent = time.monotonic()
        await report(settings, topics, appeal)
        await page.wait_for(f"document.getElementById('case-{case_id}')", timeout_s=60)
        seconds = time.monotonic() - sent
        print(f"\na case dispatched during the test appeared on the board after {seconds:.1f} s")
        assert await page.evaluate("window.__sameDocument") == "board-loaded-once", "no reload"
        await page.wait_for("document.getElementById('tile-nanshan').textContent.startsWith('1')")
        await page.screenshot(ARTIFACTS / "board-city.png")

        await page.viewport(390, 844, mobile=True)
        await page.wait_for("document.documentElement.clientWidth <= 400")
        assert await page.evaluate("document.documentElement.scrollWidth <= 400"), "fits a phone"
        await page.screenshot(ARTIFACTS / "board-phone.png")
        await page.viewport(1366, 900)

        await page.follow(f"document.querySelector('#case-{case_id} a').click(); true")
        assert await page.evaluate("location.pathname") == f"/board/case/{case_id}"
        assert await page.evaluate("document.getElementById('case') !== null")
        text = await page.evaluate("document.body.innerText")
        assert case_id in text
        assert "南山区" in text
        await page.screenshot(ARTIFACTS / "board-case.png")

        # Futian's federation: its own board; Nanshan's case and board refused.
        await page.goto(daemon.base_url + "/board")
        await log_out(page)
        await log_in(page, daemon, FUTIAN)
        assert "福田区" in await page.evaluate("document.getElementById('scope-name').textContent")
        assert await page.evaluate(f"document.getElementById('case-{case_id}') === null")
        await page.goto(f"{daemon.base_url}/board/case/{case_id}")
        assert await page.evaluate("document.getElementById('refused').dataset.status") == "403"
        await page.screenshot(ARTIFACTS / "board-refused.png")
        await page.goto(daemon.base_url + "/board?district=nanshan")
        assert await page.evaluate("document.getElementById('refused').dataset.status") == "403"

        # Without a session: the stream and the JSON are refused, the pages lead to login.
        status, _ = await daemon.call("GET", "/board/events", token=None)
        assert status == 401
        status, _ = await daemon.call("GET", "/board/api/snapshot", token=CITY)
        assert status == 401, "a bearer token is no board session"
        assert CITY not in daemon.log_text()
