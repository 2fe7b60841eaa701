"""The deployment files: they parse, match the code they deploy, and say what they promise.

Every ``UNIONHUB_*`` variable they set is a ``Settings`` field with a valid value,
every ``unionhub <verb>`` they run is a real command (or one listed in
``COMMANDS_TO_COME``), and the Strimzi manifests are exactly what the generator
makes from the topic catalogue today.
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.deploy_manifests import (
    AUDITOR_USER,
    SERVICE_USER,
    district_user,
    generated_files,
    restricted_topics,
)
from unionhub.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
OWN_DIRS = [DEPLOY / name for name in ("systemd", "container", "compose", "k8s")]

# Commands the deploy files run that other work in progress will add; each must
# become real (then leave this list) before a release.
COMMANDS_TO_COME: dict[str, str] = {}

_VARIABLE = re.compile(r"\bUNIONHUB_[A-Z0-9_]+\b")
_BACKTICKED = re.compile(r"`unionhub ([^`]+)`")


def own_files() -> list[Path]:
    return sorted(p for d in OWN_DIRS for p in d.rglob("*") if p.is_file())


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def settings_from(variables: dict[str, str]) -> Settings:
    """Settings built from ``UNIONHUB_*`` values, as the process would parse them."""
    fields: dict[str, Any] = {
        name.removeprefix("UNIONHUB_").lower(): value for name, value in variables.items()
    }
    return Settings(**fields)


def k8s(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    found = [
        doc
        for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
        for doc in documents(path)
        if doc.get("kind") == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert found, f"no {kind} {name or ''} in deploy/k8s"
    return found


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (DEPLOY / "compose" / "compose.yaml").read_text(encoding="utf-8")
    )
    return loaded


def container_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "container" / "Containerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def systemd_unit() -> configparser.ConfigParser:
    # systemd allows a key more than once (SystemCallFilter=); the last one wins here.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / "unionhub.service", encoding="utf-8")
    return parser


# -- every file parses --------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    docs = documents(path)
    assert docs, f"{path} holds no document"
    assert all(isinstance(doc, dict) for doc in docs)


def test_the_deploy_folders_hold_what_they_promise() -> None:
    names = {str(p.relative_to(DEPLOY)) for p in own_files()}
    assert {
        "systemd/unionhub.service",
        "systemd/unionhub.env.example",
        "container/Containerfile",
        "compose/compose.yaml",
        "k8s/topics.yaml",
        "k8s/users.yaml",
        "k8s/unionhub.yaml",
        "k8s/kustomization.yaml",
    } <= names


# -- generated Strimzi manifests -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(generated_files()))
def test_committed_manifest_is_what_the_generator_makes_now(name: str) -> None:
    committed = (DEPLOY / name).read_text(encoding="utf-8")
    assert committed == generated_files()[name], (
        f"deploy/{name} is out of date: run `python -m devtools.deploy_manifests`"
    )


def test_every_catalogue_topic_is_a_kafka_topic_with_three_replicas() -> None:
    topics = {doc["spec"]["topicName"]: doc for doc in k8s("KafkaTopic")}
    specs = {spec.name: spec for spec in TopicCatalog().specs()}
    assert set(topics) == set(specs)
    for name, doc in topics.items():
        spec = doc["spec"]
        assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", doc["metadata"]["name"])
        assert spec["partitions"] == specs[name].partitions
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        declared = {k: str(v) for k, v in spec["config"].items() if k != "min.insync.replicas"}
        assert declared == specs[name].configs


def _covers(resource: dict[str, Any], topic: str) -> bool:
    if resource["type"] != "topic":
        return False
    name = resource["name"]
    if resource.get("patternType", "literal") == "prefix":
        return topic.startswith(name)
    return name in (topic, "*")


def _readers(topic: str) -> set[str]:
    return {
        user["metadata"]["name"]
        for user in k8s("KafkaUser")
        for acl in user["spec"]["authorization"]["acls"]
        if _covers(acl["resource"], topic) and {"Read", "All"} & set(acl["operations"])
    }


def test_raw_intake_and_dead_letters_are_readable_only_by_unionhub_and_the_auditor() -> None:
    restricted = restricted_topics(TopicCatalog())
    assert "intake.dlq" in restricted
    assert "router.dlq" in restricted
    assert "intake.raw.citizen_app" in restricted
    for topic in restricted:
        assert _readers(topic) == {SERVICE_USER, AUDITOR_USER}, topic


def test_each_district_reads_its_own_queue_and_every_user_authenticates() -> None:
    catalog = TopicCatalog()
    for topic in catalog.dispatch_topics():
        readers = _readers(topic)
        assert SERVICE_USER in readers
        assert AUDITOR_USER not in readers
        if topic != catalog.triage:
            slug = topic.removeprefix("dispatch.")
            assert readers == {SERVICE_USER, district_user(slug)}, topic
    for user in k8s("KafkaUser"):
        assert user["spec"]["authentication"]["type"] in ("tls", "scram-sha-512")
        assert user["spec"]["authorization"]["type"] == "simple"


# -- settings and commands named by the deploy files ------------------------------------


def test_every_unionhub_variable_named_is_a_settings_field() -> None:
    named = {
        (path.relative_to(DEPLOY), variable)
        for path in own_files()
        for variable in _VARIABLE.findall(path.read_text(encoding="utf-8"))
    }
    assert named, "the deploy files configure unionhub through UNIONHUB_* variables"
    fields = set(Settings.model_fields)
    unknown = sorted(
        f"{path}: {variable}"
        for path, variable in named
        if variable.removeprefix("UNIONHUB_").lower() not in fields
    )
    assert not unknown, unknown


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def _interpolated(value: str) -> str:
    # Compose's ${NAME:?message}: the operator supplies it; any value will do here.
    return re.sub(r"\$\{[^}]+\}", "interpolated-secret", value)


def test_every_unionhub_value_given_is_valid() -> None:
    sources: dict[str, dict[str, str]] = {
        "systemd env example": _env_file(DEPLOY / "systemd" / "unionhub.env.example"),
        "k8s configmap": k8s("ConfigMap", "unionhub-config")[0]["data"],
        "k8s secret example": k8s("Secret", "unionhub-secrets")[0]["stringData"],
    }
    for service, spec in compose()["services"].items():
        env = spec.get("environment", {})
        if not str(spec.get("image", "")).startswith("unionhub"):
            continue  # the brokers and the ACL job
        sources[f"compose {service}"] = {k: _interpolated(str(v)) for k, v in env.items()}
    unit_env = systemd_unit()["Service"]["Environment"]
    sources["systemd unit"] = dict(item.split("=", 1) for item in shlex.split(unit_env))
    image_env = " ".join(args for op, args in container_instructions() if op == "ENV")
    sources["Containerfile"] = dict(re.findall(r"(UNIONHUB_\w+)=(\S+)", image_env))
    problems = []
    for source, env in sources.items():
        variables = {k: v for k, v in env.items() if k.startswith("UNIONHUB_")}
        assert variables, f"{source} sets no UNIONHUB_* variable"
        try:
            settings_from(variables)
        except ValidationError as exc:
            problems.append(f"{source}: {exc}")
    assert not problems, problems
    production = settings_from(sources["systemd env example"])
    assert production.topic_replication_factor == 3
    assert production.namespace == ""


def _commands() -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {}
    exec_start = shlex.split(systemd_unit()["Service"]["ExecStart"])
    assert exec_start[0].endswith("/unionhub")
    commands["systemd ExecStart"] = exec_start[1:]
    instructions = dict(container_instructions())
    assert json.loads(instructions["ENTRYPOINT"]) == ["unionhub"]
    commands["Containerfile CMD"] = json.loads(instructions["CMD"])
    for service, spec in compose()["services"].items():
        if str(spec.get("image", "")).startswith("unionhub"):
            commands[f"compose {service}"] = list(spec["command"])
    for deployment in k8s("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            commands[f"k8s {container['name']}"] = list(container["args"])
    for path in own_files():
        for index, text in enumerate(_BACKTICKED.findall(path.read_text(encoding="utf-8"))):
            commands[f"{path.relative_to(DEPLOY)} mention {index}"] = shlex.split(text)
    return commands


def test_every_unionhub_command_named_is_a_real_command() -> None:
    commands = _commands()
    assert ["topics", "ensure"] in commands.values()
    assert ["run"] in commands.values()
    parser = build_parser()
    subcommands = next(
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ).choices
    for where, argv in commands.items():
        if argv[0] not in subcommands:
            assert argv[0] in COMMANDS_TO_COME, f"{where}: unionhub {' '.join(argv)}"
            continue
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{where}: `unionhub {' '.join(argv)}` is not a valid command")


# -- one check per deployment flavour ---------------------------------------------------


def test_systemd_unit_runs_the_daemon_hardened() -> None:
    unit = systemd_unit()
    service = unit["Service"]
    assert service["Type"] == "simple"
    assert service["EnvironmentFile"] == "/etc/unionhub/unionhub.env"
    assert service["Restart"] == "on-failure"
    assert service["User"] == "unionhub"
    for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert service[option] == "yes", option
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


def test_containerfile_runs_unionhub_as_a_non_root_user_with_a_healthcheck() -> None:
    instructions = container_instructions()
    froms = [args for op, args in instructions if op == "FROM"]
    assert froms[-1] == "python:3.11-slim"
    users = [args for op, args in instructions if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert ("EXPOSE", "8083") in instructions
    healthcheck = next(args for op, args in instructions if op == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert json.loads(dict(instructions)["CMD"]) == ["run"]


def test_compose_runs_three_combined_kraft_nodes_then_topics_then_the_daemon() -> None:
    services = compose()["services"]
    nodes = {name: spec for name, spec in services.items() if name.startswith("kafka-")}
    assert len(nodes) == 3
    voters = set()
    for name, spec in nodes.items():
        env = spec["environment"]
        assert spec["image"] == "apache/kafka:3.9.1"
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"CLIENT://{name}:9092,INTERNAL://{name}:9094"
        assert env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] == (
            "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL"
        )
        assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        voters.add(f"{env['KAFKA_NODE_ID']}@{name}:9093")
    assert len(voters) == 3, "distinct node ids"
    for spec in nodes.values():
        assert set(spec["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
    assert len({spec["environment"]["CLUSTER_ID"] for spec in nodes.values()}) == 1
    topics, daemon, setup = services["topics"], services["unionhub"], services["acl-setup"]
    assert topics["command"] == ["topics", "ensure"]
    assert all(setup["depends_on"][n]["condition"] == "service_healthy" for n in nodes)
    assert topics["depends_on"]["acl-setup"]["condition"] == "service_completed_successfully"
    assert "./kafka-setup.sh:/etc/kafka/kafka-setup.sh:ro" in setup["volumes"]
    assert daemon["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    bootstrap = daemon["environment"]["UNIONHUB_KAFKA_BOOTSTRAP"].split(",")
    assert sorted(bootstrap) == sorted(f"{n}:9092" for n in nodes)
    assert daemon["environment"]["UNIONHUB_TOPIC_REPLICATION_FACTOR"] == "3"


def test_k8s_deployment_serves_8083_with_probes_as_non_root() -> None:
    (deployment,) = k8s("Deployment", "unionhub")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {"name": "http", "containerPort": 8083} in container["ports"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    refs = {next(iter(source.values()))["name"] for source in container["envFrom"]}
    assert refs == {"unionhub-config", "unionhub-secrets"}
    (service,) = k8s("Service", "unionhub")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8083, "targetPort": "http"}]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    kustomization = documents(DEPLOY / "k8s" / "kustomization.yaml")[0]
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).is_file(), resource


def test_every_deployment_reaches_kafka_over_tls_with_scram_as_unionhub() -> None:
    daemons = {
        "compose": compose()["services"]["unionhub"]["environment"],
        "k8s": k8s("ConfigMap", "unionhub-config")[0]["data"],
        "systemd": _env_file(DEPLOY / "systemd" / "unionhub.env.example"),
    }
    for where, env in daemons.items():
        assert env["UNIONHUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", where
        assert env["UNIONHUB_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", where
        assert env["UNIONHUB_KAFKA_SASL_USERNAME"] == SERVICE_USER, where
        assert "${file:" in env["UNIONHUB_KAFKA_SASL_PASSWORD"], (
            f"{where}: a reference, not a value"
        )
        assert env["UNIONHUB_KAFKA_SSL_CAFILE"].startswith("/etc/unionhub/"), where
    for user in k8s("KafkaUser"):
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
