"""Loading connector config files for ``unionhub intake run``, and the runner's own checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import SourceContext
from connectors.channels.citizen_app import CitizenAppSource
from connectors.config import CitizenAppConfig
from connectors.runner import ConnectorRunner, load_config_file
from connectors.secrets import SecretResolver
from core.errors import ConfigError
from core.logging import masker

YAML = """\
name: citizen
channel: citizen_app
base_url: http://127.0.0.1:9/citizen
client_id: hub
client_secret: ${env:CITIZEN_SECRET}
poll_interval_s: 1
"""


def test_yaml_config_with_an_env_reference(tmp_path: Path) -> None:
    path = tmp_path / "citizen.yaml"
    path.write_text(YAML, encoding="utf-8")
    config = load_config_file(path, SecretResolver({"CITIZEN_SECRET": "env-secret-1"}))
    assert isinstance(config, CitizenAppConfig)
    assert config.client_secret.get_secret_value() == "env-secret-1"


@pytest.mark.parametrize("content", ["- just\n- a list\n", "name: [unclosed\n"])
def test_a_file_that_is_not_a_config_mapping_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config_file(path, SecretResolver())


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(tmp_path / "nope.yaml", SecretResolver())


def test_runner_builds_registered_sources_and_registers_secrets(tmp_path: Path) -> None:
    path = tmp_path / "citizen.yaml"
    path.write_text(YAML, encoding="utf-8")
    config = load_config_file(path, SecretResolver({"CITIZEN_SECRET": "runner-secret-2"}))
    runner = ConnectorRunner(SourceContext(bootstrap="127.0.0.1:9", namespace="t."), [config])
    assert [type(s) for s in runner.sources] == [CitizenAppSource]
    assert masker().mask("token runner-secret-2 used") == "token *** used"


def test_runner_refuses_duplicate_names(tmp_path: Path) -> None:
    path = tmp_path / "citizen.yaml"
    path.write_text(YAML, encoding="utf-8")
    config = load_config_file(path, SecretResolver({"CITIZEN_SECRET": "x" * 8}))
    with pytest.raises(ConfigError, match="unique"):
        ConnectorRunner(SourceContext(bootstrap="127.0.0.1:9", namespace="t."), [config, config])
