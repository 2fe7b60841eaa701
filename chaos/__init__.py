"""The chaos run (``make chaos``): the whole daemon under crashes, broker restarts and storms.

``python -m chaos.run`` starts its own broker, the simulators (faults on) and
``unionhub run`` as a subprocess; a seeded driver (:mod:`chaos.plan`) SIGKILLs
and restarts the daemon, stops and restarts the broker, and makes upstreams
storm; then everything is released, the pipeline drains, the ground-truth
checker judges every topic, and every log file and non-restricted topic is
scanned for personal numbers and secrets (:mod:`chaos.scan`).
"""
