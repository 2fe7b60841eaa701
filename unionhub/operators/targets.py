"""Which topic ``unionhub tail`` reads: a district, ``triage``, or a topic by name."""

from __future__ import annotations

import re

from core.kafka.topics import TopicCatalog
from schemas.shenzhen import DISTRICTS
from unionhub.operators.errors import UnknownTargetError

_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


def resolve_target(target: str, catalog: TopicCatalog) -> str:
    """The topic ``target`` names, in ``catalog``'s namespace.

    ``target`` is a district slug (``nanshan``), official or short Chinese name
    (``南山区``, ``南山``), ``triage``, a catalogue topic name without the
    namespace (``alerts.risk``, which the namespace then prefixes), or any other
    topic name, taken as it is.
    """
    name = target.strip()
    if name.lower() == "triage":
        return catalog.triage
    for district in DISTRICTS:
        if name.lower() == district.slug or name in (district.name, district.short):
            return catalog.dispatch(district.slug)
    bare = TopicCatalog("")
    for unprefixed, spec in zip(bare.specs(), catalog.specs(), strict=True):
        if name == unprefixed.name:
            return spec.name
    if _TOPIC_NAME.fullmatch(name) and name not in (".", ".."):
        return name
    raise UnknownTargetError(target)
