"""Writing a run's connector configs and its scenario's expectations to a directory."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import yaml

from simulators.runner import Simulators


def write_configs(sims: Simulators, out: Path) -> list[Path]:
    """``out/<channel>.yaml`` for every channel (``sims.connector_configs[channel]``), then
    ``out/replies-<channel>.yaml`` per reply sink (named so a glob lists them after their
    sources: a sink config may only name a connector already stored)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    files = [(f"{ch}.yaml", c) for ch, c in sims.connector_configs.items()]
    files += [(f"replies-{ch}.yaml", c) for ch, c in sims.sink_configs.items()]
    for name, config in files:
        path = out / name
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
        paths.append(path)
    return paths


def write_expectations(sims: Simulators, out: Path) -> Path:
    """``out/expected.json``: expected versions, dead letters, cases and alerts (for checkers)."""
    scenario = sims.scenario
    truth = scenario.truth
    doc: dict[str, Any] = {
        "seed": scenario.seed,
        "anchor": scenario.anchor.isoformat(),
        "live_end": scenario.live_end.isoformat(),
        "expected_versions": [asdict(v) for v in scenario.expected_versions()],
        "possible_versions": [asdict(v) for v in scenario.possible_versions()],
        "dead_letters": [asdict(d) for d in scenario.expected_dead_letters()],
        "cases": [
            {"case_id": c.case_id, "reports": c.reports, "placements": sorted(c.placements)}
            for c in truth.cases
        ],
        "versions": [
            {
                "channel": v.channel,
                "external_id": v.external_id,
                "version": v.version,
                "case_id": v.case_id,
                "events": sorted(v.events),
                "events_live": sorted(v.events_live),
            }
            for v in truth.versions
        ],
        "alerts": [
            {
                "kind": a.kind,
                "employer_key": a.employer_key,
                "trigger": a.trigger,
                "members": a.members,
                "persons": a.persons,
                "raised_at": a.raised_at.isoformat(),
                "open_until": a.open_until.isoformat(),
            }
            for a in truth.alerts
        ],
    }
    path = out / "expected.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return path
