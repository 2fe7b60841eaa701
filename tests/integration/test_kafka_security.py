"""unionhub on a secured cluster: TLS, SASL/SCRAM, mTLS and the deploy manifests' ACLs.

One secured broker for the module (``LocalCluster(secure=True)``: a throwaway
CA, a SASL_SSL and an mTLS listener, the StandardAuthorizer, the ACLs of
``deploy/k8s/users.yaml`` for this module's namespace). The daemon runs end to
end over SASL_SSL as ``unionhub``; a district federation reads its own queue
and nothing else; it writes its own action topic and no other; a wrong
password and untrusted certificates fail at once with a line naming the setting.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import KafkaAccessError
from core.kafka.clients import (
    admin_client,
    client_security,
    idempotent_producer,
    install_security,
)
from core.kafka.security import resolve_security
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from devtools.certs import CertificateAuthority
from devtools.kafka_cluster import LocalCluster
from schemas.caseloop import CaseAction
from simulators import SimulatorOptions, start_simulators
from tests.conftest import REPO_ROOT
from tests.integration.daemon_harness import running_daemon
from tests.kafka_helpers import eventually, read_to_end
from unionhub.cases.actions import ActionSender
from unionhub.operators.tail import LastRecords, TailOptions, tail

pytestmark = pytest.mark.integration

SECURE_BOOTSTRAP = os.environ.get("UNIONHUB_TEST_SECURE_KAFKA_BOOTSTRAP", "127.0.0.1:19592")
NAMESPACE = "tsecure."
CATALOG = TopicCatalog(NAMESPACE)
FAST_FAILURE_S = 30.0  # "at once": well under any client's retry or request timeouts


@dataclass(frozen=True)
class Secured:
    """The module's secured cluster and the settings of its namespace."""

    cluster: LocalCluster
    settings: Settings


@pytest.fixture(scope="module")
async def secured(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Secured]:
    state = tmp_path_factory.mktemp("secure-kafka")
    settings = base_settings.model_copy(
        update={"kafka_bootstrap": SECURE_BOOTSTRAP, "state_dir": state, "namespace": NAMESPACE}
    )
    cluster = LocalCluster(settings, secure=True)
    previous = client_security()
    try:
        await cluster.up(timeout_s=180)  # ACLs for NAMESPACE included
        install_security(cluster.security("unionhub"))  # this module's own reads and writes
        async with admin_client(cluster.bootstrap) as admin:  # `topics ensure` as the service
            await ensure_topics(admin, CATALOG.specs())
        yield Secured(cluster, settings.model_copy(update=cluster.client_settings("unionhub")))
    finally:
        install_security(previous)
        await cluster.down()


async def _unionhub(*args: str, env: dict[str, str]) -> tuple[int, str, str, float]:
    """``python -m unionhub ARGS``: exit code, stdout, stderr, seconds taken."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unionhub",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode(), time.monotonic() - started


def _as(secured: Secured, principal: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI run acting as ``principal`` through its settings file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONHUB_")}
    return {
        **env,
        "UNIONHUB_SETTINGS_FILE": str(secured.cluster.clients_dir / f"{principal}.yaml"),
        "UNIONHUB_NAMESPACE": NAMESPACE,
        "UNIONHUB_LOG_FORMAT": "json",
        **extra,
    }


def _last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


async def test_the_daemon_runs_end_to_end_over_sasl_ssl(secured: Secured, tmp_path: Path) -> None:
    options = SimulatorOptions(seed=5, incidents=10, speed=1000, fault_rate=0.0, stations=11)
    env = secured.cluster.client_environment("unionhub")
    settings = secured.settings.model_copy(update={"state_dir": tmp_path / "state"})
    async with (
        start_simulators(options) as sims,
        running_daemon(settings, tmp_path, env=env) as daemon,
    ):
        sims.release_all()
        citizen = dict(sims.connector_configs["citizen_app"]) | {"poll_interval_s": 0.2}
        status, body = await daemon.call("POST", "/connectors", json=citizen)
        assert status == 201, body

        async def dispatched() -> bool:
            records = await read_to_end(secured.cluster.bootstrap, *CATALOG.dispatch_topics())
            return any(b"citizen_app" in dict(r.headers or ()).values() for r in records)

        await eventually(dispatched, timeout_s=60)
        password = secured.cluster.password("unionhub")
        assert password not in daemon.log_text()


async def test_a_district_tails_its_own_queue_and_nothing_else(secured: Secured) -> None:
    producer = idempotent_producer(secured.cluster.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(CATALOG.dispatch("nanshan"), b'{"probe": 1}', key=b"p")
    finally:
        await producer.stop()
    env = _as(secured, "district-nanshan")
    own, *refused = await asyncio.gather(
        _unionhub("tail", "nanshan", "--json", env=env),
        *(
            _unionhub("tail", topic.removeprefix(NAMESPACE), env=env)
            for topic in (
                CATALOG.dispatch("futian"),
                CATALOG.raw("citizen_app"),
                CATALOG.intake_dlq,
                CATALOG.router_dlq,
                CATALOG.cases_state,
            )
        ),
    )
    code, out, err, _ = own
    assert code == 0, err
    assert '{"probe": 1}' in out
    for topic, (code, _, err, seconds) in zip(
        ("dispatch.futian", "intake.raw.citizen_app", "intake.dlq", "router.dlq", "cases.state"),
        refused,
        strict=True,
    ):
        assert code == 1, err
        assert _last_line(err) == (
            f"unionhub: {NAMESPACE}{topic}: this client's principal may not read it "
            "(Kafka ACLs refuse Describe)"
        )
        assert seconds < FAST_FAILURE_S


def _action(actor: str) -> CaseAction:
    return CaseAction.model_validate(
        {
            "action_id": f"{actor}-probe-{time.monotonic_ns()}",
            "case_id": "case-probe",
            "actor": actor,
            "action": "accept",
            "at": datetime.now(UTC).isoformat(),
        }
    )


async def test_a_district_writes_its_own_action_topic_and_no_other(secured: Secured) -> None:
    service = client_security()
    install_security(secured.cluster.security("district-nanshan"))
    sender = ActionSender(secured.cluster.bootstrap, CATALOG)
    try:
        await sender.send(_action("nanshan"))
        started = time.monotonic()
        with pytest.raises(KafkaAccessError, match=r"cases\.actions\.futian: not allowed"):
            await sender.send(_action("futian"))
        assert time.monotonic() - started < FAST_FAILURE_S
    finally:
        await sender.close()
        install_security(service)
    records = await read_to_end(secured.cluster.bootstrap, CATALOG.actions("nanshan"))
    assert [r.key for r in records] == [b"case-probe"]
    assert await read_to_end(secured.cluster.bootstrap, CATALOG.actions("futian")) == []


async def test_a_district_authenticated_by_its_certificate_gets_the_same_acls(
    secured: Secured,
) -> None:
    mtls = Settings(**secured.cluster.mtls_settings("district-nanshan"))
    service = client_security()
    install_security(resolve_security(mtls))
    lines: list[str] = []
    try:
        options = TailOptions(start=LastRecords(10), output="json")
        summary = await tail(
            mtls.kafka_bootstrap, CATALOG.dispatch("nanshan"), options, lines.append
        )
        assert summary.read >= 1
        with pytest.raises(KafkaAccessError, match="may not read"):
            await tail(mtls.kafka_bootstrap, CATALOG.dispatch("futian"), options, lines.append)
    finally:
        install_security(service)


async def test_a_wrong_password_and_untrusted_certificates_fail_at_once_naming_the_setting(
    secured: Secured, tmp_path: Path
) -> None:
    rogue = CertificateAuthority.create(tmp_path, "rogue")
    stranger = rogue.issue("district-nanshan")
    mtls = secured.cluster.mtls_settings("district-nanshan")
    wrong_password, untrusted_broker, untrusted_client, daemon = await asyncio.gather(
        _unionhub(
            "tail",
            "nanshan",
            env=_as(secured, "district-nanshan", UNIONHUB_KAFKA_SASL_PASSWORD="not-the-password"),
        ),
        _unionhub(
            "tail",
            "nanshan",
            env=_as(secured, "district-nanshan", UNIONHUB_KAFKA_SSL_CAFILE=str(rogue.cafile)),
        ),
        _unionhub(
            "tail",
            "nanshan",
            env={
                **_as(secured, "district-nanshan"),
                "UNIONHUB_SETTINGS_FILE": "",
                "UNIONHUB_KAFKA_BOOTSTRAP": mtls["kafka_bootstrap"],
                "UNIONHUB_KAFKA_SECURITY_PROTOCOL": "SSL",
                "UNIONHUB_KAFKA_SSL_CAFILE": str(mtls["kafka_ssl_cafile"]),
                "UNIONHUB_KAFKA_SSL_CERTFILE": str(stranger.certfile),
                "UNIONHUB_KAFKA_SSL_KEYFILE": str(stranger.keyfile),
            },
        ),
        _unionhub(
            "run",
            env=_as(
                secured,
                "unionhub",
                UNIONHUB_KAFKA_SASL_PASSWORD="not-the-password",
                UNIONHUB_STATE_DIR=str(tmp_path / "state"),
                UNIONHUB_HTTP_PORT="0",
            ),
        ),
    )
    expected = {
        "wrong password": (
            wrong_password,
            "unionhub: SASL SCRAM-SHA-512 login as 'district-nanshan' refused by "
            f"{secured.cluster.bootstrap}: wrong username or password "
            "(UNIONHUB_KAFKA_SASL_USERNAME, UNIONHUB_KAFKA_SASL_PASSWORD)",
        ),
        "daemon, wrong password": (daemon, "unionhub: SASL SCRAM-SHA-512 login as 'unionhub'"),
        "untrusted broker": (
            untrusted_broker,
            f"unionhub: TLS: the certificate of the broker at {secured.cluster.bootstrap} is "
            "not trusted",
        ),
        "untrusted client": (untrusted_client, "does the broker accept the client certificate"),
    }
    for case, ((code, _, err, seconds), message) in expected.items():
        assert code == 1, (case, err)
        assert message in _last_line(err), (case, err)
        assert "not-the-password" not in err, case
        assert seconds < FAST_FAILURE_S, case
