"""Secret references in connector configs: ``${env:NAME}`` and ``${file:PATH}``.

The resolver lives in :mod:`core.secrets` (the Kafka client settings resolve
their SASL password with it too); this module keeps the connectors' import path.
"""

from __future__ import annotations

from core.secrets import MAX_SECRET_BYTES, SecretResolver

__all__ = ["MAX_SECRET_BYTES", "SecretResolver"]
