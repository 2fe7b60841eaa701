"""Tooling for developers, tests, the demo and CI, never imported by the product.

The local Kafka launcher (``unionhub kafka up|down|status``, registered as a tool
command), condition polling for tests, namespace clean-up, and the generator of
the Kubernetes manifests.
"""
