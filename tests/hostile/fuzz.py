"""The hypothesis settings of every fuzz test here: bounded, no deadline, no example database."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# 200 examples per test keep the whole hostile suite within seconds on CI's 2 cores.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
