"""Channel simulators for unionhub: the five upstream systems, served from a seeded scenario.

``async with start_simulators(SimulatorOptions(seed=1)) as sims`` serves every
channel's contract under one port; ``sims.connector_configs`` holds a ready
connector config per channel; ``sims.scenario`` the generated scenario with
``expected_versions()``, ``expected_dead_letters()`` and ``truth``.
"""

from simulators.options import SimulatorOptions
from simulators.runner import Simulators, start_simulators

__all__ = ["SimulatorOptions", "Simulators", "start_simulators"]
