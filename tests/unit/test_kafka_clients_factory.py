"""Every Kafka client of the project comes from the one factory, with the security settings.

The scan reads every Python file of the repository (product, tooling, benchmarks,
chaos and the tests themselves) and fails, naming file and line, on a client
constructed anywhere but ``core/kafka/clients.py``. Then the factory's clients
are checked to carry the installed security settings.
"""

from __future__ import annotations

import ast
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import KafkaSetupError
from core.kafka import clients
from core.kafka.clients import (
    admin_client,
    client_security,
    committed_consumer,
    idempotent_producer,
    install_security,
    librdkafka_config,
    metadata_client,
    transactional_producer,
)
from core.kafka.security import ClientSecurity
from tests.conftest import REPO_ROOT

# The adapter's admin client subclass counts as a client too.
KAFKA_MODULES = ("aiokafka", "confluent_kafka", "quixstreams", "core.kafka.aiokafka_adapter")
CONSTRUCTORS = frozenset(
    {
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AIOKafkaAdminClient",
        "AnyNodeAdminClient",
        "AIOKafkaClient",
        "AIOKafkaConnection",
        "create_conn",
        "Producer",
        "Consumer",
        "AdminClient",
        "SerializingProducer",
        "DeserializingConsumer",
        "Application",
    }
)
FACTORY = Path("core/kafka/clients.py")
# The diagnosis's probe connection (core/kafka/diagnosis.py hands it the same security).
ALLOWED = {(Path("core/kafka/aiokafka_adapter.py"), "create_conn")}
SKIPPED_DIRS = {".venv", ".cache", ".git", "build", "var", "node_modules"}


def python_files() -> Iterator[Path]:
    for path in sorted(REPO_ROOT.rglob("*.py")):
        relative = path.relative_to(REPO_ROOT)
        if not SKIPPED_DIRS & set(relative.parts) and not relative.parts[0].endswith(".egg-info"):
            yield relative


def _kafka_names(tree: ast.AST) -> tuple[dict[str, str], set[str]]:
    """Local names bound to Kafka library classes (name -> class), and Kafka module aliases."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in KAFKA_MODULES or node.module in KAFKA_MODULES:
                for alias in node.names:
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in KAFKA_MODULES:
                    modules.add(alias.asname or alias.name.split(".")[0])
    return names, modules


def constructions(relative: Path) -> list[tuple[int, str]]:
    """(line, class) of every Kafka client constructed in ``relative``."""
    tree = ast.parse((REPO_ROOT / relative).read_text(encoding="utf-8"), str(relative))
    names, modules = _kafka_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and names.get(func.id) in CONSTRUCTORS:
            found.append((node.lineno, names[func.id]))
        elif isinstance(func, ast.Attribute) and func.attr in CONSTRUCTORS:
            root = func.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append((node.lineno, func.attr))
    return found


def test_no_kafka_client_is_constructed_outside_the_factory() -> None:
    files = list(python_files())
    assert FACTORY in files
    assert Path("chaos/run.py") in files
    assert Path("benchmarks/ceiling.py") in files
    outside = [
        f"{relative}:{line}: {name}(...) outside {FACTORY}; use its factories"
        for relative in files
        if relative != FACTORY
        for line, name in constructions(relative)
        if (relative, name) not in ALLOWED
    ]
    assert outside == []


def test_the_scan_sees_every_way_of_constructing_a_client(tmp_path: Path) -> None:
    assert {name for _, name in constructions(FACTORY)} >= {
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AnyNodeAdminClient",
        "AIOKafkaClient",
        "Producer",
        "Consumer",
        "Application",
    }
    # aiohttp's web.Application is no Kafka client.
    assert constructions(Path("unionhub/daemon/server.py")) == []


SASL = ClientSecurity(
    protocol="SASL_SSL",
    ssl_context=ssl.create_default_context(),
    cafile=Path("/ca.pem"),
    check_hostname=True,
    sasl_mechanism="SCRAM-SHA-512",
    username="district-nanshan",
    password="not-a-real-password",
)


class Recorder:
    """Stands in for a client class: records the keyword arguments it was built with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.kwargs = kwargs

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


@pytest.fixture
def sasl_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AIOKafkaProducer", "AIOKafkaConsumer", "AnyNodeAdminClient", "AIOKafkaClient"):
        monkeypatch.setattr(clients, name, Recorder)
    previous = client_security()
    install_security(SASL)
    yield
    install_security(previous)


@pytest.mark.usefixtures("sasl_installed")
async def test_every_factory_applies_the_installed_security() -> None:
    expected = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "district-nanshan",
        "sasl_plain_password": "not-a-real-password",
    }
    built: list[Any] = [
        idempotent_producer("h:1"),
        transactional_producer("h:1", "tx"),
        committed_consumer("h:1", "topic"),
        metadata_client("h:1"),
    ]
    async with admin_client("h:1") as admin:
        built.append(admin)
    for client in built:
        assert expected.items() <= client.kwargs.items(), client.kwargs
    assert librdkafka_config("h:1", {"acks": "all", "security.protocol": "plaintext"}) == {
        "bootstrap.servers": "h:1",
        "acks": "all",
        "security.protocol": "sasl_ssl",
        "ssl.ca.location": "/ca.pem",
        "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "district-nanshan",
        "sasl.password": "not-a-real-password",
    }


async def test_an_explicit_security_wins_and_no_caller_override_turns_it_off() -> None:
    producer = idempotent_producer("h:1", security=SASL, security_protocol="PLAINTEXT")
    try:
        assert producer.client._security_protocol == "SASL_SSL"
    finally:
        await producer.stop()
    assert "not-a-real-password" not in repr(SASL)


def test_a_factory_used_before_configure_clients_refuses_to_connect_in_the_clear() -> None:
    previous = client_security()
    install_security(None)
    try:
        with pytest.raises(KafkaSetupError, match="configure_clients"):
            idempotent_producer("h:1")
    finally:
        install_security(previous)
