"""The chaos run's count of what a case owes its channel: one reply per resolve and close."""

from __future__ import annotations

from typing import Any

from chaos.replies import owed


def history(*entries: tuple[str, str | None]) -> dict[str, Any]:
    return {"history": [{"action": a, "detail": d} for a, d in entries]}


def test_resolves_and_closes_are_owed_and_nothing_else() -> None:
    assert owed(history(("accept", None), ("note", None))) == 0
    assert owed(history(("resolve", "resolved"))) == 1
    assert owed(history(("resolve", "resolved"), ("visit", "unreachable"))) == 2
    assert owed(history(("resolve", "explained"), ("auto_close", None))) == 2
    reopened = history(
        ("resolve", "resolved"), ("visit", "dissatisfied"), ("reopen", None),
        ("resolve", "resolved"), ("visit", "satisfied"),
    )  # fmt: skip
    assert owed(reopened) == 3
