"""unionhub: one network for worker complaints.

Connectors pull five upstream channels into Kafka, the router normalizes,
places, dedupes and dispatches each case to its district federation's topic.
This package holds what every part shares: settings, errors, logging, the
Kafka toolbox (local broker, topic catalogue, clients) and the CLI.
"""

__version__ = "0.1.0"
