"""The short chaos run (``make chaos CHAOS_ARGS=--short``), through the same code path.

Its own broker on a free port (the run stops and restarts it; the test broker
on 19092 is never touched), 100 incidents, the daemon SIGKILLed 3 times, the
broker restarted once, every storm once, an expired OAuth secret fixed by an
admin; then the checker and the leak scan. ``pytest -s`` shows the table.
"""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from chaos.loop import FIXED_FIGURES
from chaos.plan import REPLY_CHANNELS, REPLY_STORMS, STORMS, make_plan
from chaos.report import ChaosReport
from chaos.run import ChaosOptions, parse_options, run_chaos
from chaos.scan import ScanResult
from schemas.shenzhen import DISTRICTS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def _free_port_pair() -> int:
    """A port P with P and P + 1 (the broker's controller) both free right now."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="module")
async def report(tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    """One short chaos run, shared by the tests of this module."""
    work = tmp_path_factory.mktemp("chaos")
    options = ChaosOptions.short(
        out=work / "out",
        state_dir=work / "state",
        bootstrap=f"127.0.0.1:{_free_port_pair()}",
        kafka_heap="512m",
    )
    result = await run_chaos(options)
    print(f"\n=== short chaos run ===\n{result.format()}")
    return result


def test_nothing_is_lost_and_nothing_dispatched_twice(report: ChaosReport) -> None:
    assert report.check.versions_expected > 0
    assert report.check.lost == 0
    assert report.check.dispatched_twice == 0
    assert report.ok


def test_the_full_checker_report_is_clean(report: ChaosReport) -> None:
    check = report.check
    assert check.unexpected_versions == 0
    assert check.misrouted_cases == 0
    assert (check.wrongly_merged, check.wrongly_split) == (0, 0)
    assert check.wrong_event_types == 0
    assert check.alerts_expected > 0
    assert (check.alerts_missing, check.alerts_extra, check.alerts_wrong) == (0, 0, 0)
    assert check.dead_letters_found == check.dead_letters_expected > 0
    assert check.dead_letters_unexpected == 0
    assert (check.pii_leaks, check.malformed_messages) == (0, 0)
    assert check.ok, check.format()


def test_the_chaos_happened(report: ChaosReport) -> None:
    tally = report.tally
    assert tally.kills == 3
    assert tally.broker_restarts == 1
    assert tally.daemon_exits == 0, "the daemon rode out the broker restart"
    storms = {f"{channel}.{kind}" for channel, kind, _ in (*STORMS, *REPLY_STORMS)}
    assert set(tally.storms) - storms in [{f"{c}.reply_lost"} for c in REPLY_CHANNELS]
    assert storms <= set(tally.storms)
    assert tally.stations_forced_down >= 50  # a fifth of the 262 stations
    assert tally.secret_rotations == 1
    assert tally.connector_failed_on_old_secret
    assert tally.secret_fixed_by_admin
    # Every storm hit requests (a storm lasts until it has), on top of the usual faults.
    storm_faults = {kind for kind in report.faults if ".storm_" in kind}
    listing = {f"{channel}.storm_{kind}" for channel, kind, _ in STORMS}
    assert listing <= storm_faults
    # The federations resolve cases while the reply storms blow; the kill's one bites.
    replying = storm_faults - listing
    assert any(kind.endswith(".storm_reply_lost") for kind in replying)
    kinds = [*(kind for _, kind, _ in REPLY_STORMS), "reply_lost"]
    assert replying <= {f"{c}.storm_{k}" for c in REPLY_CHANNELS for k in kinds}
    assert sum(n for kind, n in report.faults.items() if kind not in storm_faults) > 0


def test_no_personal_number_or_secret_in_any_log_or_public_topic(report: ChaosReport) -> None:
    scan: ScanResult = report.scan
    assert scan.logs_scanned >= 5  # four daemon incarnations and the broker's logs
    assert scan.records_scanned > 0
    assert scan.hits == 0, scan.format()


def test_the_plan_is_seeded_and_spreads_the_kills() -> None:
    plan = make_plan(seed=3, duration_s=180, kills=10)
    assert plan == make_plan(seed=3, duration_s=180, kills=10)
    assert plan != make_plan(seed=4, duration_s=180, kills=10)
    assert len(plan.kills) == 10
    assert list(plan.kills) == sorted(plan.kills)
    assert all(0.05 * 180 <= at <= 0.9 * 180 for at in plan.kills)
    assert len(plan.broker_restarts) == 1
    assert {(w.channel, w.kind) for w in plan.storms} == {(c, k) for c, k, _ in STORMS}
    assert all(w.at_s + w.for_s <= 180 for w in (*plan.storms, plan.stations_down))
    assert {(w.channel, w.kind) for w in plan.reply_storms} == {(c, k) for c, k, _ in REPLY_STORMS}
    assert plan.sink_kill is not None
    assert plan.sink_kill.kind == "reply_lost"
    assert 0.4 * 180 <= plan.sink_kill.at_s <= 0.75 * 180
    with pytest.raises(ValueError, match="duration_s"):
        make_plan(seed=3, duration_s=0, kills=1)


def test_every_reply_owed_reached_the_upstream_once(report: ChaosReport) -> None:
    replies = report.replies
    assert (replies.missing, replies.duplicated) == (0, 0), replies
    assert replies.expected > 0, "the federations resolved cases of the reply channels"
    assert replies.upstream + replies.refused == replies.expected
    assert report.tally.sink_kills == 1, "killed once between a reply's send and its commit"
    assert replies.repeats_absorbed >= 1, "the key sent again after the kill was taken once"


def test_the_case_loop_turned_and_the_replay_agrees_with_it(report: ChaosReport) -> None:
    loop = report.loop.report
    assert loop.ok, loop.format()
    assert loop.cases_expected > 0
    assert loop.case_states_seen > 0
    assert loop.actions_applied > 0
    assert loop.sla_alerts_expected > 0, "cases went overdue while the daemon was killed"
    assert report.tally.downtime, "the kills and the broker restart are the replay's downtime"
    attempts = report.loop.attempts
    assert attempts["applied"] > 0
    assert attempts["invalid"] == 0


def test_the_daemon_s_figures_are_the_replay_s(report: ChaosReport) -> None:
    loop = report.loop
    assert loop.figures is not None
    city = loop.figures.scopes["city"]
    assert min(city["dispatched"], city["resolved"], city["visits"]) > 0
    # Every fixed figure of every district and the city.
    assert loop.report.figures_compared == len(FIXED_FIGURES) * (len(DISTRICTS) + 1)
    assert loop.report.figures_wrong == 0, loop.report.format()


def test_leader_kills_are_spread_and_leave_the_rest_of_a_seed_s_plan_alone() -> None:
    plain = make_plan(seed=8, duration_s=180, kills=10)
    with_losses = make_plan(seed=8, duration_s=180, kills=10, broker_restarts=1, leader_kills=2)
    assert replace(with_losses, leader_kills=()) == plain
    first, second = with_losses.leader_kills
    assert 0.15 * 180 <= first < second <= 0.75 * 180
    options = parse_options(["--brokers", "3"])
    assert (options.brokers, options.leader_kills, options.broker_restarts) == (3, 2, 0)
    assert parse_options(["--brokers", "3", "--broker-restarts", "1"]).broker_restarts == 1
    assert parse_options([]).leader_kills == 0
