"""The daemon (``unionhub run``): connectors, router, admin API and metrics in one process."""

from unionhub.daemon.app import Daemon
from unionhub.daemon.supervisor import Backoff, ConnectorSupervisor

__all__ = ["Backoff", "ConnectorSupervisor", "Daemon"]
