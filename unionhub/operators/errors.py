"""Errors of the operator tools."""

from __future__ import annotations

from core.errors import UnionhubError


class OperatorError(UnionhubError):
    """An operator tool could not do what was asked."""


class UnknownTargetError(OperatorError):
    """The argument names neither a district, ``triage``, nor a valid topic name."""

    def __init__(self, target: str) -> None:
        super().__init__(
            f"{target!r} is not a district (a slug like nanshan, or 南山区 / 南山), "
            "nor triage, nor a topic name"
        )
        self.target = target


class TopicNotFoundError(OperatorError):
    """The topic to read does not exist on the broker."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"topic {topic} does not exist (is the namespace right?)")
        self.topic = topic
