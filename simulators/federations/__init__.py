"""Simulated district federations and the city desk, acting on their cases like staff would.

``async with run_federations(FederationOptions(seed, daemon_url, tokens, bootstrap,
namespace, speed, anchor)) as feds`` runs one federation per actor with a token:
each reads its dispatch topic (the city desk ``dispatch.triage``), acts on its
cases through the daemon's REST API at seeded loop times (the mix is
:mod:`simulators.federations.mix`'s), and records every attempt in
``feds.ledger()``. The CLI is ``unionhub simulate federations``.
"""

from simulators.federations.ledger import Ledger, LedgerEntry, Outcome, read_ledger
from simulators.federations.mix import MIX, Mix
from simulators.federations.plan import RunPlan, draw
from simulators.federations.policy import Step, next_step
from simulators.federations.runner import (
    FederationOptions,
    Federations,
    anchor_for,
    load_tokens,
    monday_anchor,
    run_federations,
)

__all__ = [
    "MIX",
    "FederationOptions",
    "Federations",
    "Ledger",
    "LedgerEntry",
    "Mix",
    "Outcome",
    "RunPlan",
    "Step",
    "anchor_for",
    "draw",
    "load_tokens",
    "monday_anchor",
    "next_step",
    "read_ledger",
    "run_federations",
]
