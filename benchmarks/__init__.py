"""``make bench``: unionhub's throughput, latency and memory against the ceiling and a peer.

Run ``.venv/bin/python -m benchmarks.run --help``; ``BENCHMARKS.md`` holds a run's figures.
"""
