"""Case states read straight from ``cases.state``, for the CLI (no daemon needed).

The topic is compacted and keyed by case id: its last record per key is the
case's current state (a null value: the case was merged into another).
"""

from __future__ import annotations

from core.kafka.reading import read_to_end
from core.kafka.topics import TopicCatalog
from schemas.caseloop import CaseState


async def read_case_states(bootstrap: str, catalog: TopicCatalog) -> dict[str, CaseState]:
    """Every case's current state, by case id."""
    last: dict[str, bytes | None] = {}
    for record in await read_to_end(bootstrap, catalog.cases_state):
        last[(record.key or b"").decode("utf-8", "replace")] = record.value
    return {
        case_id: CaseState.model_validate_json(value)
        for case_id, value in last.items()
        if value is not None
    }
