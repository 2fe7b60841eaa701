"""The Kafka client security settings: refused combinations name the setting, files load at
start-up, the password resolves through secret references and is masked, the settings
file gives the same settings as the environment."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from core.kafka.clients import client_security, configure_clients, install_security
from core.kafka.security import resolve_security
from core.logging import masker
from core.settings import Settings
from devtools.certs import CertificateAuthority
from unionhub.cli import main

SASL: dict[str, Any] = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "unionhub",
    "kafka_sasl_password": "a-password-for-tests",
}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "UNIONHUB_KAFKA_SASL_MECHANISM"),
        ({**SASL, "kafka_sasl_username": ""}, "UNIONHUB_KAFKA_SASL_USERNAME"),
        ({**SASL, "kafka_sasl_password": None}, "UNIONHUB_KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_username": "unionhub"}, "UNIONHUB_KAFKA_SASL_USERNAME"),
        ({"kafka_ssl_cafile": "/ca.pem"}, "UNIONHUB_KAFKA_SSL_CAFILE"),
        ({**SASL, "kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ssl_cafile": "/c"}, "CAFILE"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "/c.pem"},
            "UNIONHUB_KAFKA_SSL_KEYFILE",
        ),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        ({**SASL, "kafka_sasl_mechanism": "GSSAPI"}, "kafka_sasl_mechanism"),
    ],
)
def test_a_combination_that_cannot_work_is_refused_naming_the_setting(
    given: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**given)
    first = refused.value.errors()[0]
    assert named in str(first["msg"]) or named in first["loc"]
    assert "a-password-for-tests" not in str(first["msg"])


def test_the_password_resolves_through_a_reference_and_is_masked_from_then_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "kafka.password").write_text("from-a-secret-file\n")
    settings = Settings(**{**SASL, "kafka_sasl_password": "${file:kafka.password}"})
    with pytest.raises(ConfigError, match="UNIONHUB_SECRETS_DIR"):
        resolve_security(settings)
    previous = client_security()
    try:
        security = configure_clients(settings.model_copy(update={"secrets_dir": tmp_path}))
        assert security.password == "from-a-secret-file"
        assert masker().mask("password from-a-secret-file") == "password ***"
    finally:
        install_security(previous)
    by_env = Settings(**{**SASL, "kafka_sasl_password": "${env:KAFKA_PW}"})
    assert resolve_security(by_env, {"KAFKA_PW": "from-the-env"}).password == "from-the-env"
    with pytest.raises(ConfigError, match="UNIONHUB_KAFKA_SASL_PASSWORD"):
        resolve_security(by_env, {})


def test_tls_files_load_at_start_up_or_fail_naming_their_setting(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    client = ca.issue("unionhub")
    other = CertificateAuthority.create(tmp_path, "other").issue("stranger")
    mtls = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=ca.cafile,
        kafka_ssl_certfile=client.certfile,
        kafka_ssl_keyfile=client.keyfile,
        kafka_ssl_check_hostname=False,
    )
    security = resolve_security(mtls)
    assert security.ssl_context is not None
    assert security.ssl_context.verify_mode is ssl.CERT_REQUIRED
    assert security.ssl_context.check_hostname is False
    assert security.librdkafka_config()["ssl.endpoint.identification.algorithm"] == "none"
    cases = {
        "UNIONHUB_KAFKA_SSL_CAFILE": {"kafka_ssl_cafile": tmp_path / "missing.pem"},
        "UNIONHUB_KAFKA_SSL_KEYFILE": {"kafka_ssl_keyfile": tmp_path / "missing.key"},
        "UNIONHUB_KAFKA_SSL_CERTFILE": {"kafka_ssl_keyfile": other.keyfile},  # not its key
    }
    for named, change in cases.items():
        with pytest.raises(ConfigError) as refused:
            resolve_security(mtls.model_copy(update=change))
        assert refused.value.field == named


def test_the_settings_file_gives_settings_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "unionhub.yaml"
    path.write_text(
        "UNIONHUB_KAFKA_BOOTSTRAP: kafka-1:9093,kafka-2:9093\n"
        "kafka_security_protocol: SASL_SSL\n"
        "kafka_sasl_mechanism: SCRAM-SHA-512\n"
        "kafka_sasl_username: district-nanshan\n"
        "kafka_sasl_password: ${env:NANSHAN_KAFKA_PASSWORD}\n"
    )
    monkeypatch.setenv("UNIONHUB_SETTINGS_FILE", str(path))
    monkeypatch.setenv("UNIONHUB_KAFKA_SASL_USERNAME", "district-futian")
    settings = Settings()
    assert settings.kafka_bootstrap == "kafka-1:9093,kafka-2:9093"
    assert (settings.kafka_host, settings.kafka_port) == ("kafka-1", 9093)
    assert settings.kafka_sasl_username == "district-futian"
    path.write_text("kafka_sasl_pasword: typo\n")
    with pytest.raises(ConfigError, match="kafka_sasl_pasword is not a unionhub setting"):
        Settings()
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        Settings()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"UNIONHUB_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "unionhub: invalid setting UNIONHUB_KAFKA_SASL_MECHANISM: required with "
            "UNIONHUB_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        ),
        (
            {"UNIONHUB_KAFKA_SECURITY_PROTOCOL": "SSL", "UNIONHUB_KAFKA_SSL_CAFILE": "/nope.pem"},
            "unionhub: invalid setting UNIONHUB_KAFKA_SSL_CAFILE: cannot load CA certificates: "
            "No such file or directory",
        ),
        (
            {"UNIONHUB_SETTINGS_FILE": "/nope.yaml"},
            "unionhub: invalid setting UNIONHUB_SETTINGS_FILE: cannot read /nope.yaml: "
            "No such file or directory",
        ),
    ],
)
def test_the_cli_stops_at_start_up_naming_the_setting(
    env: dict[str, str],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    previous = client_security()
    try:
        assert main(["topics", "list"]) == 2
    finally:
        install_security(previous)
    assert capsys.readouterr().err.strip() == line
