"""Connector configs: one model per channel, secrets by reference and never in messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import (
    CitizenAppConfig,
    Hotline12351Config,
    LegalStationsConfig,
    parse_config,
)
from connectors.secrets import SecretResolver
from core.errors import ConfigError

CITIZEN = {
    "name": "citizen",
    "channel": "citizen_app",
    "base_url": "http://127.0.0.1:9/",
    "client_id": "hub",
    "client_secret": "s3cret-value",
}


def test_flat_config_is_parsed_with_defaults() -> None:
    config = parse_config(CITIZEN, SecretResolver())
    assert isinstance(config, CitizenAppConfig)
    assert config.base_url == "http://127.0.0.1:9"
    assert config.page_size == 100
    assert config.poll_interval_s == 5
    assert "s3cret-value" not in repr(config)
    assert config.secrets() == ["s3cret-value"]


def test_nested_settings_form_is_accepted() -> None:
    nested = {
        "name": "hotline",
        "channel": "hotline_12351",
        "settings": {"base_url": "http://h", "app_key": "hub", "app_secret": "x" * 8},
    }
    config = parse_config(nested, SecretResolver())
    assert isinstance(config, Hotline12351Config)
    assert config.lookback_s == 900
    assert config.poll_interval_s == 10


def test_legal_stations_defaults_follow_the_spec() -> None:
    config = parse_config(
        {"name": "legal", "channel": "legal_stations", "registry_url": "http://r", "token": "t"},
        SecretResolver(),
    )
    assert isinstance(config, LegalStationsConfig)
    assert (config.poll_interval_s, config.registry_refresh_s) == (30, 600)
    assert (config.max_concurrency, config.request_timeout_s) == (32, 5)


def test_env_reference_is_resolved() -> None:
    config = parse_config(
        {**CITIZEN, "client_secret": "${env:CITIZEN_SECRET}"},
        SecretResolver({"CITIZEN_SECRET": "from-env"}),
    )
    assert isinstance(config, CitizenAppConfig)
    assert config.client_secret.get_secret_value() == "from-env"


def test_file_reference_is_read_inside_the_secrets_dir(tmp_path: Path) -> None:
    (tmp_path / "citizen").write_text("from-file\n", encoding="utf-8")
    config = parse_config(
        {**CITIZEN, "client_secret": "${file:citizen}"}, SecretResolver(secrets_dir=tmp_path)
    )
    assert isinstance(config, CitizenAppConfig)
    assert config.client_secret.get_secret_value() == "from-file"


@pytest.mark.parametrize("reference", ["${file:../outside}", "${file:/etc/passwd}"])
def test_file_reference_outside_the_secrets_dir_is_refused(tmp_path: Path, reference: str) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (tmp_path / "outside").write_text("nope", encoding="utf-8")
    with pytest.raises(ConfigError, match="outside the secrets dir") as info:
        parse_config(
            {**CITIZEN, "client_secret": reference}, SecretResolver(secrets_dir=secrets_dir)
        )
    assert info.value.field == "client_secret"


def test_file_reference_without_a_secrets_dir_is_refused() -> None:
    with pytest.raises(ConfigError, match="SECRETS_DIR"):
        parse_config({**CITIZEN, "client_secret": "${file:x}"}, SecretResolver())


def test_missing_env_variable_names_the_field_not_a_value() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**CITIZEN, "client_secret": "${env:NOPE}"}, SecretResolver())
    assert info.value.field == "client_secret"


def test_invalid_value_names_the_field_and_never_echoes_secrets() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**CITIZEN, "page_size": 500}, SecretResolver())
    assert info.value.field == "page_size"
    assert "s3cret-value" not in str(info.value)


def test_unknown_keys_and_channels_are_refused() -> None:
    with pytest.raises(ConfigError, match="channel"):
        parse_config({**CITIZEN, "channel": "fax"}, SecretResolver())
    with pytest.raises(ConfigError) as info:
        parse_config({**CITIZEN, "clientsecret": "typo"}, SecretResolver())
    assert info.value.field == "clientsecret"
