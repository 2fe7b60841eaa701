"""Masking of connector configs for display, and secret references (no broker needed).

Kept next to the config store's integration tests because the store owns
these helpers; nothing here touches Kafka.
"""

from __future__ import annotations

from unionhub.configstore import MASK, is_secret_reference, literal_secret_paths, mask_secrets
from unionhub.configstore.records import ConfigState, TargetState, config_key


def test_mask_secrets_masks_literals_and_references_at_any_depth() -> None:
    config = {
        "channel": "provincial_petition",
        "password": "literal-secret",
        "token": "${env:GD_TOKEN}",
        "auth": {"client_id": "unionhub", "client_secret": "${file:/run/secrets/gd}"},
        "stations": [{"name": "宝安站", "password": "p4ss"}],
        "optional_secret": None,
    }
    masked = mask_secrets(config, {"password", "token", "client_secret", "optional_secret"})
    assert masked == {
        "channel": "provincial_petition",
        "password": MASK,
        "token": MASK,
        "auth": {"client_id": "unionhub", "client_secret": MASK},
        "stations": [{"name": "宝安站", "password": MASK}],
        "optional_secret": None,
    }
    assert config["password"] == "literal-secret", "the original is left alone"


def test_secret_references_are_recognised_exactly() -> None:
    assert is_secret_reference("${env:HOTLINE_TOKEN}")
    assert is_secret_reference("${file:/etc/unionhub/secrets/gd}")
    assert not is_secret_reference("literal")
    assert not is_secret_reference("prefix ${env:X}")
    assert not is_secret_reference("${vault:X}")
    assert not is_secret_reference(None)


def test_literal_secrets_are_found_by_path() -> None:
    config = {
        "token": "${env:T}",
        "password": "plain",
        "auth": {"client_secret": "also-plain", "client_id": "x"},
        "stations": [{"password": "${file:/s/p}"}, {"password": "p2"}],
    }
    found = literal_secret_paths(config, {"token", "password", "client_secret"})
    assert found == ["password", "auth.client_secret", "stations[1].password"]


def test_a_target_state_before_its_config_applies_when_the_config_comes() -> None:
    state = ConfigState()
    paused = b'{"schema": "unionhub.connector-target-state/1", "state": "PAUSED"}'
    assert state.apply(b"target-state-a", paused, 0) is None
    change = state.apply(
        config_key("a"), b'{"schema": "unionhub.connector-config/1", "config": {}}', 1
    )
    assert change is not None
    assert change.connector is not None
    assert change.connector.target_state is TargetState.PAUSED


def test_records_that_cannot_be_understood_are_rejected_with_a_reason() -> None:
    state = ConfigState()
    assert state.apply(b"connector-a", b"[1]", 0) is None
    assert state.apply(b"connector-b", b'{"schema": "other/1", "config": {}}', 1) is None
    assert state.apply(b"target-state-a", b'{"schema": "x"}', 2) is None
    assert state.apply(b"connector-bad name", b"{}", 3) is None
    assert state.apply(None, b"{}", 4) is None
    assert [r.offset for r in state.rejected] == [0, 1, 2, 3, 4]
    assert state.connectors == {}
