"""Connector configs of the simulators, tuned for fast runs, with secrets as file references.

Shared by the chaos run and the end-to-end test harness: connectors poll
every :data:`POLL_INTERVAL_S` and a hanging legal station costs a round of
:data:`STATION_TIMEOUT_S`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simulators import Simulators

POLL_INTERVAL_S = 1.0  # connectors poll fast: the live hour lasts seconds at high speed
STATION_TIMEOUT_S = 2  # a hanging station costs a round this long
# Keys of the simulators' connector configs that hold secrets (the others are not secret).
SECRET_KEYS = frozenset({"client_secret", "api_key", "app_secret", "password", "token"})


def tuned_configs(sims: Simulators) -> dict[str, dict[str, Any]]:
    """Each channel's connector config, polling every ``POLL_INTERVAL_S``."""
    configs = {}
    for channel, config in sims.connector_configs.items():
        tuned = dict(config, poll_interval_s=POLL_INTERVAL_S)
        if "request_timeout_s" in tuned:
            tuned["request_timeout_s"] = STATION_TIMEOUT_S
        configs[channel] = tuned
    return configs


def write_connector_configs(sims: Simulators, out: Path) -> list[Path]:
    """The tuned configs as YAML files in ``out`` (secrets literal), one per channel."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for channel, config in tuned_configs(sims).items():
        path = out / f"{channel}.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
        paths.append(path)
    return paths


def with_secret_files(config: dict[str, Any], secrets_dir: Path, tag: str = "") -> dict[str, Any]:
    """``config`` with every secret written to ``secrets_dir`` and replaced by ``${file:...}``.

    The file is named ``<connector>.<key><tag>``, so a rotated secret (another
    ``tag``) gets a file of its own and the config changes.
    """
    secrets_dir.mkdir(parents=True, exist_ok=True)
    out = dict(config)
    for key in SECRET_KEYS & config.keys():
        name = f"{config['name']}.{key}{tag}"
        path = secrets_dir / name
        path.write_text(str(config[key]), "utf-8")
        path.chmod(0o600)
        out[key] = "${file:" + name + "}"
    return out


def secret_values(sims: Simulators) -> list[str]:
    """Every secret value in the simulators' current connector configs."""
    return sorted(
        str(config[key])
        for config in sims.connector_configs.values()
        for key in SECRET_KEYS & config.keys()
    )
