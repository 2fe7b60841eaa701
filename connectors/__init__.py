"""Connectors: pull the five upstream channels into ``intake.raw.<channel>`` exactly once.

``connectors.base`` is the source contract, ``connectors.http`` the HTTP-polling
template, ``connectors.registry`` the types by channel, ``connectors.intake``
the transactional writer, ``connectors.runner`` runs configured connectors.
"""
