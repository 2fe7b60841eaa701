"""Secret references: ``${env:NAME}`` and ``${file:PATH}``, in settings and connector configs.

A value that is exactly a reference is replaced by what it points to.
``${file:...}`` may only read inside ``Settings.secrets_dir``; the environment
mapping is handed in by the CLI, so nothing here reads ``os.environ``. The
connectors (their configs) and the Kafka client settings (the SASL password)
resolve through the same :class:`SecretResolver`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError

_REFERENCE = re.compile(r"\$\{(env|file):([^}]*)\}")
MAX_SECRET_BYTES = 64 * 1024  # a secret is a token or a key, not a file of any size


@dataclass(frozen=True)
class SecretResolver:
    """Resolves secret references against an environment and a secrets directory."""

    environ: Mapping[str, str] = field(default_factory=dict)
    secrets_dir: Path | None = None

    def resolve(self, field_name: str, value: str) -> str:
        """``value`` itself, or what the reference it consists of points to.

        Raises :class:`ConfigError` naming ``field_name`` (never the secret) when
        the reference cannot be resolved or escapes the secrets directory.
        """
        match = _REFERENCE.fullmatch(value.strip())
        if match is None:
            if "${" in value:
                raise ConfigError(field_name, "malformed secret reference")
            return value
        kind, target = match.groups()
        if kind == "env":
            if not target or target not in self.environ:
                raise ConfigError(field_name, f"environment variable {target!r} is not set")
            return self.environ[target]
        return self._read_file(field_name, target)

    def _read_file(self, field_name: str, target: str) -> str:
        if self.secrets_dir is None:
            raise ConfigError(field_name, "${file:} references need UNIONHUB_SECRETS_DIR")
        root = self.secrets_dir.resolve()
        if not target or "\x00" in target:
            raise ConfigError(field_name, "${file:} reference names no usable path")
        path = (root / target).resolve()
        if not path.is_relative_to(root):
            raise ConfigError(field_name, "${file:} reference points outside the secrets dir")
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as exc:
            raise ConfigError(field_name, f"cannot read secret file ({exc.strerror})") from None
        if len(data) > MAX_SECRET_BYTES:
            raise ConfigError(field_name, f"secret file is larger than {MAX_SECRET_BYTES} bytes")
        try:
            return data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(field_name, "secret file is not UTF-8 text") from None
