"""The ground every unionhub package stands on: settings, errors, logging, personal-data
masking and the Kafka toolbox (client factories, the catalogue of every Kafka name,
topic provisioning, reading a topic to its end).

It imports nothing of the project but ``schemas``; everything else may import it.
"""
