"""Every Kafka name unionhub uses, declared once, and ``topics ensure``.

:class:`TopicCatalog` names every topic (public ones as ``shared/spec/dispatch.md``
says, internal ones ``unionhub.*``) and every consumer group, transactional id
and client id, all in one style: ``unionhub.<component>.<name>``. A non-empty
namespace prefixes every name (tests use it to share one broker without seeing
each other's data). No other module formats a Kafka name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from core.errors import KafkaSetupError, KafkaUnavailableError
from schemas.channels import Channel
from schemas.shenzhen import DISTRICTS

_WEEK_MS = str(7 * 24 * 3600 * 1000)
_QUARTER_MS = str(90 * 24 * 3600 * 1000)

# Raw intake and dead letters are kept long enough to replay a quarter.
_RETAINED = {"cleanup.policy": "delete", "retention.ms": _QUARTER_MS}
_DISPATCH = {"cleanup.policy": "delete", "retention.ms": _QUARTER_MS}
_COMPACTED = {"cleanup.policy": "compact"}


@dataclass(frozen=True)
class TopicSpec:
    """A topic's name, partition count and the configs ``ensure`` enforces."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicCatalog:
    """Names of all topics for one namespace, and their declarations."""

    namespace: str = ""

    def _n(self, name: str) -> str:
        return f"{self.namespace}{name}"

    def raw(self, channel: Channel | str) -> str:
        """``intake.raw.<channel>``: records as received plus fetch metadata."""
        return self._n(f"intake.raw.{channel}")

    def dispatch(self, slug: str) -> str:
        """``dispatch.<slug>``: one district federation's queue."""
        return self._n(f"dispatch.{slug}")

    @property
    def triage(self) -> str:
        """Cases no rule could place, or outside Shenzhen."""
        return self._n("dispatch.triage")

    @property
    def alerts(self) -> str:
        """Risk alerts of collective disputes."""
        return self._n("alerts.risk")

    @property
    def sla_alerts(self) -> str:
        """Supervision alerts (督办) of the case loop, key case id."""
        return self._n("alerts.sla")

    @property
    def cases_state(self) -> str:
        """The current state of every case (``unionhub.case/1``), key case id; compacted."""
        return self._n("cases.state")

    def actions(self, actor: str) -> str:
        """``cases.actions.<slug>`` or ``cases.actions.city``: the actor's own action topic."""
        return self._n(f"cases.actions.{actor}")

    def action_topics(self) -> list[str]:
        """Every district's action topic and the city desk's."""
        return [self.actions(d.slug) for d in DISTRICTS] + [self.actions("city")]

    def actor_of(self, topic: str) -> str | None:
        """The actor whose action topic ``topic`` is, None if it is none."""
        prefix = self._n("cases.actions.")
        return topic[len(prefix) :] if topic.startswith(prefix) else None

    @property
    def calendar(self) -> str:
        """Working-day calendar overrides the admin loads (key: year); compacted."""
        return self._n("unionhub.calendar")

    @property
    def intake_dlq(self) -> str:
        """Dead letters of the connectors."""
        return self._n("intake.dlq")

    @property
    def router_dlq(self) -> str:
        """Dead letters of the router."""
        return self._n("router.dlq")

    @property
    def checkpoints(self) -> str:
        """Connector checkpoints, keyed by connector (and station); compacted."""
        return self._n("unionhub.connector.checkpoints")

    @property
    def connector_configs(self) -> str:
        """Connector configs, the admin's source of truth; compacted."""
        return self._n("unionhub.connector.configs")

    @property
    def connector_status(self) -> str:
        """Last known state of each connector (RUNNING, PAUSED, FAILED...); compacted."""
        return self._n("unionhub.connector.status")

    @property
    def router_normalized(self) -> str:
        """Normalized reports, handed from the stateless stage to the dedupe stage."""
        return self._n("unionhub.router.normalized")

    @property
    def router_state(self) -> str:
        """Changelog of the router's dedupe and alert state; compacted."""
        return self._n("unionhub.router.state")

    # --- groups, transactional ids, client ids ----------------------------------------

    def router_group(self, stage: str) -> str:
        """Consumer group of a router stage; also the prefix of its transactional ids."""
        return self._n(f"unionhub.router.{stage}")

    @staticmethod
    def partition_transactional_id(prefix: str, topic: str, partition: int) -> str:
        """Transactional id of the producer that owns one input partition of a stage.

        ``prefix`` is the stage's transactional-id prefix (a router stage's
        :meth:`router_group`). One id per input partition: aiokafka has no
        KIP-447 group-metadata fencing, so a new owner fences the old one
        through this id.
        """
        return f"{prefix}.{topic}.{partition}"

    def connector_transactional_id(self, connector: str) -> str:
        """Transactional id of a connector's intake writer (records, checkpoint, dead letters)."""
        return self._n(f"unionhub.connector.{connector}")

    def sink_group(self, sink: str) -> str:
        """Consumer group of a reply sink (its ``cases.state`` offsets, committed with its
        dead letters and reply ledger in its transactions)."""
        return self._n(f"unionhub.connector.{sink}")

    def configstore_transactional_id(self, instance: str) -> str:
        """Transactional id of one config store instance (a daemon, a CLI call)."""
        return self._n(f"unionhub.configstore.{instance}")

    def client_id(self, component: str) -> str:
        """Client id of a component's Kafka clients (as brokers log and quota them)."""
        return self._n(f"unionhub.{component}")

    def dispatch_topics(self) -> list[str]:
        """Every district queue plus triage."""
        return [self.dispatch(d.slug) for d in DISTRICTS] + [self.triage]

    def raw_topics(self) -> list[str]:
        """Every ``intake.raw.*`` topic."""
        return [self.raw(c) for c in Channel]

    def partition_count(self, topic: str) -> int:
        """How many partitions the catalogue declares for ``topic`` (1 for one it lacks)."""
        return next((s.partitions for s in self.specs() if s.name == topic), 1)

    def specs(self) -> list[TopicSpec]:
        """The declaration of every topic, in one place."""
        specs = [TopicSpec(t, 3, _RETAINED) for t in self.raw_topics()]
        specs += [TopicSpec(t, 3, _DISPATCH) for t in self.dispatch_topics()]
        # One partition each: a district's actions in the order it sent them.
        specs += [TopicSpec(t, 1, _DISPATCH) for t in self.action_topics()]
        specs += [
            TopicSpec(self.alerts, 1, _DISPATCH),
            TopicSpec(self.sla_alerts, 1, _DISPATCH),
            TopicSpec(self.cases_state, 3, _COMPACTED),
            TopicSpec(self.calendar, 1, _COMPACTED),
            TopicSpec(self.intake_dlq, 1, _RETAINED),
            TopicSpec(self.router_dlq, 1, _RETAINED),
            TopicSpec(self.checkpoints, 1, _COMPACTED),
            # One partition, as Kafka Connect's config topic: a total order of changes.
            TopicSpec(self.connector_configs, 1, _COMPACTED),
            TopicSpec(self.connector_status, 1, _COMPACTED),
            # One partition: the dedupe stage needs every report in one total order,
            # since "same case" joins keys no single partition key covers.
            TopicSpec(
                self.router_normalized, 1, {"cleanup.policy": "delete", "retention.ms": _WEEK_MS}
            ),
            TopicSpec(self.router_state, 1, _COMPACTED),
        ]
        return specs


@dataclass(frozen=True)
class EnsureReport:
    """What ``ensure`` did: topics created, configs altered, and what already matched."""

    created: list[str]
    altered: dict[str, dict[str, str]]
    unchanged: list[str]

    @property
    def changed(self) -> bool:
        """True when the broker's topics were changed."""
        return bool(self.created or self.altered)


async def ensure_topics(
    admin: AIOKafkaAdminClient, specs: Iterable[TopicSpec], replication_factor: int = 1
) -> EnsureReport:
    """Create missing topics and bring declared configs of existing ones in line."""
    specs = list(specs)
    existing = set(await admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    created: list[str] = []
    if missing:
        response = await admin.create_topics(
            [
                NewTopic(s.name, s.partitions, replication_factor, topic_configs=dict(s.configs))
                for s in missing
            ]
        )
        # The metadata a broker lists lags behind creation; "already exists" is not an error.
        for name, error_code, *message in response.topic_errors:
            if error_code == 0:
                created.append(name)
            elif error_code != TopicAlreadyExistsError.errno:
                raise KafkaSetupError(f"creating topic {name} failed: {error_code} {message}")
    present = [s for s in specs if s.name not in created]
    altered: dict[str, dict[str, str]] = {}
    if present:
        actual = await _describe_configs(admin, [s.name for s in present])
        for spec in present:
            diff = {k: v for k, v in spec.configs.items() if actual.get(spec.name, {}).get(k) != v}
            if diff:
                altered[spec.name] = diff
        if altered:
            await admin.alter_configs(
                [
                    # AlterConfigs replaces a topic's overrides: send the whole declaration.
                    ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=dict(spec.configs))
                    for spec in present
                    if spec.name in altered
                ]
            )
    if created:
        await wait_for_leaders(admin, created)
    return EnsureReport(
        created=created,
        altered=altered,
        unchanged=[s.name for s in present if s.name not in altered],
    )


async def wait_for_leaders(
    admin: AIOKafkaAdminClient, names: list[str], timeout_s: float = 30.0
) -> None:
    """Return once every partition of ``names`` has a leader, so clients can use them at once."""
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_exponential(multiplier=0.05, max=1),
        retry=retry_if_exception(lambda exc: isinstance(exc, KafkaUnavailableError)),
        reraise=True,
    ):
        with attempt:
            described = await admin.describe_topics(names)
            leaderless = [
                t["topic"]
                for t in described
                if t["error_code"] != 0
                or not t["partitions"]
                or any(p["error_code"] != 0 or p["leader"] < 0 for p in t["partitions"])
            ]
            if leaderless:
                raise KafkaUnavailableError(f"topics without a leader yet: {leaderless[:3]}")


async def _describe_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, str]]:
    """Configs of ``names``; retried while a just-created topic is unknown to the broker."""
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(30),
        wait=wait_exponential(multiplier=0.1, max=2),
        retry=retry_if_exception(lambda exc: getattr(exc, "retriable", False)),
        reraise=True,
    ):
        with attempt:
            described = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
            )
            return _configs_by_topic(described)
    raise AssertionError("unreachable: AsyncRetrying reraises")  # pragma: no cover


def _configs_by_topic(responses: list[object]) -> dict[str, dict[str, str]]:
    """Flatten aiokafka's DescribeConfigs responses to {topic: {name: value}}."""
    result: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in getattr(response, "resources", []):
            # (error_code, error_message, resource_type, resource_name, config_entries)
            error_code, error_message, _, name = resource[:4]
            if error_code:
                raise KafkaUnavailableError(
                    f"describing configs of {name} failed: {error_code} {error_message}"
                )
            entries = resource[4]
            result[name] = {entry[0]: entry[1] for entry in entries if entry[1] is not None}
    return result
