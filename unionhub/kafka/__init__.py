"""Kafka toolbox: the local broker, the topic catalogue and client factories."""
