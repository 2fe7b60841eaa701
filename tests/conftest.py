"""Shared fixtures: a real local Kafka broker for the whole session, one namespace per test.

The session starts the project's own broker (``LocalBroker.up``) on a test
port unless one answers there already, and stops it at the end if it started
it. Each test that needs topics gets a fresh namespace, so tests share the
broker without seeing each other's data. A test that needs PostgreSQL gets the
session's own server (``devtools.postgres``: initdb under .cache/, a free port,
stopped at the end) and a schema of its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import string
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.kafka.clients import admin_client, configure_clients, install_security
from core.kafka.security import ClientSecurity
from core.kafka.topics import TopicCatalog, ensure_topics
from core.settings import Settings
from devtools.broker import LocalBroker
from devtools.namespaces import drop_namespace
from devtools.postgres import LocalPostgres

TEST_BOOTSTRAP = os.environ.get("UNIONHUB_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / ".cache" / "test-artifacts"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The session's own PostgreSQL server (a free port); a test needing it fails if it can't."""
    port = int(os.environ.get("UNIONHUB_TEST_POSTGRES_PORT", "0")) or free_port()
    home = REPO_ROOT / ".cache" / "test-state" / f"postgres-{port}"
    shutil.rmtree(home, ignore_errors=True)
    server = LocalPostgres(home, port)
    server.up()
    try:
        yield server.dsn
    finally:
        server.down()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """Settings of the test session: the test broker, its state under .cache/."""
    return Settings(
        kafka_bootstrap=TEST_BOOTSTRAP,
        state_dir=REPO_ROOT / ".cache" / "test-state",
        kafka_heap="768m",
        log_format="json",
    )


@pytest.fixture(scope="session", autouse=True)
def kafka_clients(base_settings: Settings) -> Iterator[ClientSecurity]:
    """The session's Kafka client settings, installed as every process installs them at
    start-up (``core.kafka.clients.configure_clients``); the test broker is plain."""
    security = configure_clients(base_settings)
    yield security
    install_security(None)


@pytest.fixture(scope="session")
async def kafka_bootstrap(base_settings: Settings) -> AsyncIterator[str]:
    """A running broker for the session; a test that needs Kafka fails if none can start."""
    broker = LocalBroker(base_settings)
    started = await broker.up(timeout_s=120)
    yield base_settings.kafka_bootstrap
    if started:
        await broker.down()


@pytest.fixture
def namespace() -> str:
    """A topic/group/transactional-id prefix unique to this test.

    Letters only: a hex id can be a run of digits that the PII scanners of the
    tests rightly take for a phone number when it shows up in a log line.
    """
    return "t" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12)) + "."


@pytest.fixture
async def settings(
    base_settings: Settings, namespace: str, kafka_bootstrap: str
) -> AsyncIterator[Settings]:
    """Session settings with this test's namespace; the namespace's topics are deleted after.

    Deleting them keeps the session's broker small: every namespace holds a whole
    catalogue (about 60 partitions), and a broker holding tens of thousands of
    partitions runs out of file descriptors.
    """
    yield base_settings.model_copy(update={"namespace": namespace})
    await drop_namespace(kafka_bootstrap, namespace)


@pytest.fixture
async def topics(settings: Settings) -> TopicCatalog:
    """The full topic catalogue created in this test's namespace."""
    catalog = TopicCatalog(settings.namespace)
    async with admin_client(settings.kafka_bootstrap) as admin:
        await ensure_topics(admin, catalog.specs())
    return catalog


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(
    request: pytest.FixtureRequest, base_settings: Settings, namespace: str, tmp_path: Path
) -> Iterator[Settings]:
    """Settings selecting each case store backend in turn, with this test's own tables."""
    if request.param == "sqlite":
        yield base_settings.model_copy(
            update={"namespace": namespace, "state_dir": tmp_path, "case_store": "sqlite"}
        )
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    yield base_settings.model_copy(
        update={
            "namespace": namespace,
            "case_store": "postgresql",
            "case_store_dsn": SecretStr(dsn),
        }
    )
    drop_postgres_schema(dsn, namespace)


def drop_postgres_schema(dsn: str, namespace: str) -> None:
    """Drop the schema of ``namespace``'s PostgreSQL case store."""
    import psycopg
    from psycopg import sql

    from review.store.postgres import schema_for

    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema_for(namespace))
            )
        )
