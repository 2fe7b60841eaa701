"""Connector configs and target states, and the case API's access tokens, kept in a
compacted Kafka topic.

:class:`ConfigStore` writes and reads them; :func:`mask_secrets` prepares a
config for display. Validation of a config's shape is plugged in by the
caller (the connector registry) through ``ConfigStore(validate=...)``.
"""

from unionhub.configstore.errors import (
    ConfigStoreError,
    ConfigTopicMissingError,
    ConfigWriteError,
    InvalidConnectorConfigError,
    InvalidConnectorNameError,
    UnknownConnectorError,
)
from unionhub.configstore.records import (
    ConfigChange,
    RejectedRecord,
    StoredAccess,
    StoredConnector,
    TargetState,
    check_name,
)
from unionhub.configstore.secrets import (
    MASK,
    is_secret_reference,
    literal_secret_paths,
    mask_secrets,
)
from unionhub.configstore.store import ConfigStore, ConfigWatch, Validator

__all__ = [
    "MASK",
    "ConfigChange",
    "ConfigStore",
    "ConfigStoreError",
    "ConfigTopicMissingError",
    "ConfigWatch",
    "ConfigWriteError",
    "InvalidConnectorConfigError",
    "InvalidConnectorNameError",
    "RejectedRecord",
    "StoredAccess",
    "StoredConnector",
    "TargetState",
    "UnknownConnectorError",
    "Validator",
    "check_name",
    "is_secret_reference",
    "literal_secret_paths",
    "mask_secrets",
]
