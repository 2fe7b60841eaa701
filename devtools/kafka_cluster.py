"""The local secured and/or multi-node KRaft cluster: ``unionhub kafka up --secure --brokers 3``.

Each node is broker and controller (a quorum of all nodes) in
``<state_dir>/kafka-<port>/node-<id>``, on three ports from ``port + 3 * (id - 1)``:
clients, controller, and the inter-broker listener. Secured (``--secure``):

- a throwaway CA (``certs/``, :mod:`devtools.certs`) signs the brokers' certificate
  (``CN=broker``, for 127.0.0.1 and localhost) and one per principal;
- the client listener is SASL_SSL (SCRAM-SHA-512 and -256), the controller and
  inter-broker listeners are TLS with client certificates required; mTLS clients
  may use the inter-broker listener too (``CN=<name>`` is principal ``User:<name>``);
- KRaft's StandardAuthorizer with ``User:broker`` and ``User:admin`` as super users,
  SCRAM credentials for ``admin`` and every principal of ``deploy/k8s/users.yaml``
  (passwords in ``secrets/``, owner-only), and the ACLs that file declares
  (:mod:`devtools.kafka_acls`, from the same source);
- ``clients/<principal>.yaml``: a ``UNIONHUB_SETTINGS_FILE`` to act as that principal.

Three nodes or more: replication 3, min.insync.replicas 2 for every topic and the
internal ones. The shape is kept in ``cluster.json``, so ``down`` and ``status``
find the cluster without being told again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from core.errors import KafkaSetupError
from core.kafka.clients import admin_client
from core.kafka.security import PLAINTEXT, ClientSecurity, SaslMechanism, tls_context
from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.broker import (
    KafkaNode,
    answers,
    fetch_jars,
    java,
    single_node_properties,
    wait_answering,
)
from devtools.certs import CertificateAuthority
from devtools.deploy_manifests import kafka_users
from devtools.kafka_acls import acl_bindings, create_acls

ADMIN = "admin"
BROKER = "broker"
PORTS_PER_NODE = 3
MECHANISM: SaslMechanism = "SCRAM-SHA-512"
_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


@dataclass(frozen=True)
class NodeStatus:
    """One node: its id, pid, whether it answers, its client address and log."""

    node_id: int
    pid: int | None
    answering: bool
    bootstrap: str
    log_file: Path


class LocalCluster:
    """Lifecycle of the local cluster of ``brokers`` nodes, secured or not."""

    def __init__(self, settings: Settings, *, brokers: int = 1, secure: bool = False) -> None:
        if brokers < 1:
            raise KafkaSetupError("--brokers: at least 1")
        self._settings = settings
        self.brokers = brokers
        self.secure = secure
        self.host = settings.kafka_host
        self.base_port = settings.kafka_port
        self.home = settings.state_dir / f"kafka-{self.base_port}"
        self.nodes = [
            KafkaNode(settings, self.home / f"node-{i}", i) for i in range(1, brokers + 1)
        ]
        self.certs = CertificateAuthority(self.home / "certs", "ca")
        self.secrets_dir = self.home / "secrets"
        self.clients_dir = self.home / "clients"
        self._shape_file = self.home / "cluster.json"

    @classmethod
    def existing(cls, settings: Settings) -> LocalCluster | None:
        """The cluster ``up`` made on ``settings``' port, None if there is none."""
        shape = settings.state_dir / f"kafka-{settings.kafka_port}" / "cluster.json"
        if not shape.is_file():
            return None
        known = json.loads(shape.read_text())
        return cls(settings, brokers=int(known["brokers"]), secure=bool(known["secure"]))

    # -- addresses --------------------------------------------------------------------
    def port(self, node_id: int, offset: int = 0) -> int:
        """Node ``node_id``'s client port (offset 1: controller, 2: inter-broker / mTLS)."""
        return self.base_port + PORTS_PER_NODE * (node_id - 1) + offset

    def node_bootstrap(self, node_id: int) -> str:
        """The client address of one node."""
        return f"{self.host}:{self.port(node_id)}"

    @property
    def bootstrap(self) -> str:
        """Every node's client address (SASL_SSL when secured)."""
        return ",".join(self.node_bootstrap(n.node_id) for n in self.nodes)

    @property
    def mtls_bootstrap(self) -> str:
        """Every node's mTLS address (the inter-broker listener)."""
        return ",".join(f"{self.host}:{self.port(n.node_id, 2)}" for n in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        """The node with id ``node_id``."""
        return self.nodes[node_id - 1]

    # -- principals and their credentials -------------------------------------------------
    def principals(self) -> list[str]:
        """``admin`` and every ``KafkaUser`` of the deploy manifests."""
        return [ADMIN, *(u["metadata"]["name"] for u in kafka_users(TopicCatalog()))]

    def password_file(self, principal: str) -> Path:
        """Where ``principal``'s SCRAM password is kept (owner-only)."""
        return self.secrets_dir / f"{principal}.password"

    def password(self, principal: str) -> str:
        """``principal``'s SCRAM password (made once, the first time it is asked for)."""
        path = self.password_file(principal)
        if not path.exists():
            self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(16))  # hex: no ',' or ']' for --add-scram
        return path.read_text().strip()

    def security(self, principal: str = ADMIN, *, password: str | None = None) -> ClientSecurity:
        """How ``principal`` connects to the client listener (plain on a plain cluster)."""
        if not self.secure:
            return PLAINTEXT
        return ClientSecurity(
            protocol="SASL_SSL",
            ssl_context=tls_context(self.certs.cafile, None, None),
            cafile=self.certs.cafile,
            sasl_mechanism=MECHANISM,
            username=principal,
            password=password if password is not None else self.password(principal),
        )

    def client_settings(self, principal: str) -> dict[str, Any]:
        """The settings (field values) of a client acting as ``principal``."""
        if not self.secure:
            return {"kafka_bootstrap": self.bootstrap}
        return {
            "kafka_bootstrap": self.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_ssl_cafile": self.certs.cafile,
            "kafka_sasl_mechanism": MECHANISM,
            "kafka_sasl_username": principal,
            "kafka_sasl_password": SecretStr(self.password(principal)),
        }

    def client_environment(self, principal: str) -> dict[str, str]:
        """The same as ``UNIONHUB_*`` variables, for a subprocess (the daemon, the CLI)."""
        return {
            f"UNIONHUB_{name.upper()}": (
                value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            )
            for name, value in self.client_settings(principal).items()
        }

    def mtls_settings(self, principal: str) -> dict[str, Any]:
        """The settings of a client acting as ``principal`` by its certificate (mTLS)."""
        issued = self.certs.issue(principal)
        return {
            "kafka_bootstrap": self.mtls_bootstrap,
            "kafka_security_protocol": "SSL",
            "kafka_ssl_cafile": self.certs.cafile,
            "kafka_ssl_certfile": issued.certfile,
            "kafka_ssl_keyfile": issued.keyfile,
        }

    # -- configuration ----------------------------------------------------------------
    def _properties(self, node: KafkaNode) -> dict[str, str]:
        host, nid = self.host, node.node_id
        voters = ",".join(f"{n.node_id}@{host}:{self.port(n.node_id, 1)}" for n in self.nodes)
        client = "SASL_SSL" if self.secure else "PLAINTEXT"
        internal = "SSL" if self.secure else "PLAINTEXT"
        client_at = f"CLIENT://{host}:{self.port(nid)}"
        internal_at = f"INTERNAL://{host}:{self.port(nid, 2)}"
        properties = {
            "process.roles": "broker,controller",
            "node.id": str(nid),
            "controller.quorum.voters": voters,
            "listeners": f"{client_at},CONTROLLER://{host}:{self.port(nid, 1)},{internal_at}",
            "advertised.listeners": f"{client_at},{internal_at}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "INTERNAL",
            "listener.security.protocol.map": (
                f"CLIENT:{client},CONTROLLER:{internal},INTERNAL:{internal}"
            ),
            **single_node_properties(),
            **(_replicated() if self.brokers >= 3 else {}),
        }
        if self.secure:
            properties |= self._security_properties()
        return properties

    def _security_properties(self) -> dict[str, str]:
        broker = self.certs.issue(BROKER, hosts=(self.host, "localhost"))
        return {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(broker.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.certs.cafile),
            # The TLS listeners (controller, inter-broker, mTLS clients) want a certificate;
            # the SASL_SSL one does not (KIP-684: only a listener-prefixed setting would).
            "ssl.client.auth": "required",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512,SCRAM-SHA-256",
            "listener.name.client.scram-sha-512.sasl.jaas.config": _SCRAM,
            "listener.name.client.scram-sha-256.sasl.jaas.config": _SCRAM,
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{BROKER};User:{ADMIN}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _scram_arguments(self) -> list[str]:
        arguments = []
        for principal in self.principals():
            for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256"):
                credential = f"{mechanism}=[name={principal},password={self.password(principal)}]"
                arguments += ["--add-scram", credential]
        return arguments

    def _cluster_id(self) -> str:
        if self._shape_file.exists():
            known = json.loads(self._shape_file.read_text())
            if (known["brokers"], known["secure"]) != (self.brokers, self.secure):
                raise KafkaSetupError(
                    f"{self.home} holds a cluster of {known['brokers']} broker(s), "
                    f"secure={known['secure']}: stop it and remove that directory first"
                )
            return str(known["cluster_id"])
        if (self.home / "data").exists():
            raise KafkaSetupError(f"{self.home} holds the plain single broker: use another port")
        cluster_id = uuid.uuid4().hex[:22]
        self.home.mkdir(parents=True, exist_ok=True)
        shape = {"brokers": self.brokers, "secure": self.secure, "cluster_id": cluster_id}
        self._shape_file.write_text(json.dumps(shape))
        return cluster_id

    # -- lifecycle --------------------------------------------------------------------
    async def up(self, timeout_s: float = 120.0) -> bool:
        """Start every node that does not run; True when this call started one.

        Returns once every node answers; a secured cluster has its ACLs (for the
        settings' namespace) and the principals' settings files by then.
        """
        java()
        await asyncio.to_thread(fetch_jars, self._settings)
        cluster_id = self._cluster_id()
        if self.secure:
            CertificateAuthority.create(self.certs.directory, self.certs.name)
        scram = self._scram_arguments() if self.secure else []
        stopped = [node for node in self.nodes if node.running_pid() is None]
        for node in stopped:
            node.write_config(self._properties(node))
        await asyncio.gather(*(asyncio.to_thread(n.format, cluster_id, scram) for n in stopped))
        for node in stopped:
            node.spawn()
        admin = self.security()
        await asyncio.gather(
            *(
                wait_answering(n, self.node_bootstrap(n.node_id), admin, timeout_s)
                for n in self.nodes
            )
        )
        if self.secure:
            await self.grant(TopicCatalog(self._settings.namespace))
            self._write_settings_files()
        return bool(stopped)

    async def start(self, node_id: int, timeout_s: float = 120.0) -> None:
        """Start one node again (after :meth:`kill`) and wait until it answers."""
        node = self.node(node_id)
        node.spawn()
        await wait_answering(node, self.node_bootstrap(node_id), self.security(), timeout_s)

    async def kill(self, node_id: int) -> bool:
        """SIGKILL one node; True if it was running."""
        return await self.node(node_id).kill()

    async def down(self, timeout_s: float = 30.0) -> bool:
        """Stop every node; True when one was running."""
        stopped = await asyncio.gather(*(n.stop(timeout_s) for n in self.nodes))
        return any(stopped)

    async def status(self) -> list[NodeStatus]:
        """Each node's pid and whether it answers (as the admin on a secured cluster)."""
        admin = self.security()
        return [
            NodeStatus(
                n.node_id,
                n.running_pid(),
                await answers(self.node_bootstrap(n.node_id), security=admin),
                self.node_bootstrap(n.node_id),
                n.log_file,
            )
            for n in self.nodes
        ]

    async def leader_of(self, topic: str, partition: int = 0) -> int:
        """The id of the node leading ``topic``'s ``partition`` now."""
        async with admin_client(self.bootstrap, security=self.security()) as admin:
            (described,) = await admin.describe_topics([topic])
        return next(
            int(p["leader"]) for p in described["partitions"] if p["partition"] == partition
        )

    async def grant(self, catalog: TopicCatalog) -> int:
        """Write the deploy manifests' ACLs for ``catalog``'s names; how many bindings."""
        async with admin_client(self.bootstrap, security=self.security()) as admin:
            return await create_acls(admin, acl_bindings(kafka_users(catalog)))

    def _write_settings_files(self) -> None:
        self.clients_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for principal in self.principals():
            path = self.clients_dir / f"{principal}.yaml"
            values = {k: str(v) for k, v in self.client_environment(principal).items()}
            path.unlink(missing_ok=True)
            path.touch(mode=0o600)
            path.write_text(
                "# A client acting as this principal: UNIONHUB_SETTINGS_FILE=<this file>\n"
                + yaml.safe_dump(values, sort_keys=False)
            )

    def logs(self) -> list[Path]:
        """Every node's own log files."""
        return [path for node in self.nodes for path in node.logs()]


def _replicated() -> dict[str, str]:
    """Three or more nodes: every write on two replicas at least (with acks=all)."""
    return {
        "default.replication.factor": "3",
        "min.insync.replicas": "2",
        "offsets.topic.replication.factor": "3",
        "transaction.state.log.replication.factor": "3",
        "transaction.state.log.min.isr": "2",
        "unclean.leader.election.enable": "false",
    }
