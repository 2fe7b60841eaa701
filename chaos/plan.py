"""The seeded schedule of a chaos run: when to kill, restart the broker, and storm.

Every moment is seconds from the start of the chaos window (the live part of
the scenario); the same seed and options give the same plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

# Upstream storms of a run: (channel, kind, rate). A torn storm tears half the
# downloads only: a batch torn on every attempt of TORN_POLLS polls would be
# dead-lettered whole by design (connectors/channels/petition_window.py).
STORMS: tuple[tuple[str, str, float], ...] = (
    ("provincial_petition", "http_5xx", 1.0),
    ("citizen_app", "http_429", 0.7),
    ("hotline_12351", "hang", 0.3),
    ("petition_window", "torn", 0.5),
    ("legal_stations", "drop", 0.3),
)
STATIONS_DOWN_SHARE = 0.2  # "a fifth of the stations down"
POLL_S = 0.5  # how often the run looks at the daemon, the broker or the simulators


@dataclass(frozen=True)
class StormWindow:
    """``channel`` storms with ``kind`` at ``rate`` from ``at_s`` for ``for_s`` seconds."""

    at_s: float
    for_s: float
    channel: str
    kind: str
    rate: float


@dataclass(frozen=True)
class Plan:
    """What the driver does and when (seconds from the start of the chaos window)."""

    duration_s: float
    kills: tuple[float, ...]
    broker_restarts: tuple[float, ...]
    storms: tuple[StormWindow, ...]
    stations_down: StormWindow  # channel legal_stations, kind "down", rate = share of stations
    secret_rotation_at_s: float
    leader_kills: tuple[float, ...] = ()  # SIGKILLs of the busiest leader (three-node cluster)


def make_plan(
    seed: int, duration_s: float, kills: int, broker_restarts: int = 1, leader_kills: int = 0
) -> Plan:
    """A plan of ``kills`` SIGKILLs and ``broker_restarts`` broker restarts within ``duration_s``.

    Kills fall at random moments between 5 % and 90 % of the window, one in
    each of ``kills`` equal slots (so two never fall right together); broker
    restarts between 30 % and 70 %; each storm lasts 8-15 % of the window
    (at least 4 s) and starts in its first 80 % (the torn storm at once, while the
    backlog's batches are downloaded); the client secret is rotated
    between 20 % and 50 %. The ``leader_kills`` SIGKILLs of a broker (on a three-node
    cluster) fall one in each of as many equal slots between 15 % and 75 %, drawn after
    everything else, so a seed's other moments are the same with or without them.
    """
    if duration_s <= 0 or kills < 0 or broker_restarts < 0 or leader_kills < 0:
        raise ValueError("duration_s must be > 0; kills, restarts and leader kills >= 0")
    rng = random.Random(f"chaos-plan-{seed}")  # noqa: S311 - a seeded schedule

    def moment(low: float, high: float) -> float:
        return round(rng.uniform(low * duration_s, high * duration_s), 2)

    def window(channel: str, kind: str, rate: float) -> StormWindow:
        length = max(4.0, round(rng.uniform(0.08, 0.15) * duration_s, 2))
        # Batches are downloaded when they appear, mostly the backlog at the start:
        # a torn storm later would find few downloads to tear.
        at_s = 0.0 if kind == "torn" else moment(0.02, 0.8)
        return StormWindow(at_s, length, channel, kind, rate)

    plan = Plan(
        duration_s=duration_s,
        kills=tuple(
            moment(0.05 + 0.85 * i / kills, 0.05 + 0.85 * (i + 1) / kills) for i in range(kills)
        ),
        broker_restarts=tuple(sorted(moment(0.3, 0.7) for _ in range(broker_restarts))),
        storms=tuple(window(*storm) for storm in STORMS),
        stations_down=window("legal_stations", "down", STATIONS_DOWN_SHARE),
        secret_rotation_at_s=moment(0.2, 0.5),
    )
    slot = 0.6 / max(leader_kills, 1)
    return replace(
        plan,
        leader_kills=tuple(
            moment(0.15 + slot * i, 0.15 + slot * (i + 0.5)) for i in range(leader_kills)
        ),
    )
