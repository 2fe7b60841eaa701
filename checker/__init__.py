"""The ground-truth checker: a run's published topics against a scenario's truth.

``check(Expectations.load(path), await read_observed(bootstrap, namespace))``
gives a :class:`CheckReport`. It shares no code with the router: it reads the
JSON values of ``dispatch.*``, ``alerts.risk``, ``intake.dlq`` and
``router.dlq`` and the ``expected.json`` the simulators write.
"""

from checker.compare import check
from checker.errors import ExpectationsError
from checker.expectations import Expectations
from checker.observed import Message, Observed
from checker.reader import dispatch_targets, read_observed
from checker.report import CheckReport

__all__ = [
    "CheckReport",
    "Expectations",
    "ExpectationsError",
    "Message",
    "Observed",
    "check",
    "dispatch_targets",
    "read_observed",
]
