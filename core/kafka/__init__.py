"""Kafka toolbox: client factories, the catalogue of every Kafka name, topic provisioning,
reading topics to their end."""
