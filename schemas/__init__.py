"""The data unionhub speaks: channel names, Shenzhen's districts, record models.

Raw records of each channel, the canonical complaint, the dispatch event, the
alert and the dead letter are pydantic v2 models defined here; the constants
of the spec (channels, districts, categories) live here too, so that
connectors, router and simulators name things the same way.
"""
