"""``unionhub kafka up|down|status``: the project's local broker, or its local cluster.

``up`` alone starts the single plain broker of ``make run`` and the tests;
``up --secure`` (TLS, SASL/SCRAM, ACLs) and ``up --brokers 3`` (a three-node
KRaft quorum, replication 3) start :class:`devtools.kafka_cluster.LocalCluster`.
``down`` and ``status`` find out which one runs on the port by themselves.
"""

from __future__ import annotations

import argparse
import asyncio

from core.settings import Settings
from devtools.broker import LocalBroker
from devtools.kafka_cluster import LocalCluster


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kafka`` command group."""
    parser = subparsers.add_parser("kafka", help="run the local Kafka broker (or cluster)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="fetch, format and start the broker (idempotent)")
    up.add_argument(
        "--secure",
        action="store_true",
        help="TLS + SASL/SCRAM + ACLs: a throwaway CA, one principal per district, "
        "settings files in <state>/kafka-<port>/clients/",
    )
    up.add_argument(
        "--brokers", type=int, default=1, help="nodes of the KRaft cluster (3: replication 3)"
    )
    up.set_defaults(handler=_up)
    verbs.add_parser("down", help="stop the broker (or every node)").set_defaults(handler=_down)
    verbs.add_parser("status", help="is the broker running and answering?").set_defaults(
        handler=_status
    )


def _up(settings: Settings, args: argparse.Namespace) -> int:
    existing = LocalCluster.existing(settings)
    plain = not args.secure and args.brokers == 1
    if plain and existing is None:
        broker = LocalBroker(settings)
        started = asyncio.run(broker.up())
        verb = "started" if started else "already running"
        pid, log = broker.running_pid(), broker.log_file
        print(f"kafka {verb} on {broker.bootstrap} (pid {pid}, log {log})")
        return 0
    cluster = (
        existing
        if plain and existing is not None
        else LocalCluster(settings, brokers=args.brokers, secure=args.secure)
    )
    started = asyncio.run(cluster.up())
    verb = "started" if started else "already running"
    kind = f"{cluster.brokers}-node {'secured ' if cluster.secure else ''}cluster"
    print(f"kafka {kind} {verb} on {cluster.bootstrap} (logs under {cluster.home})")
    if cluster.secure:
        print(
            f"  act as a principal: UNIONHUB_SETTINGS_FILE={cluster.clients_dir}/<principal>.yaml"
            f" (unionhub, district-<slug>, city-desk, unionhub-auditor, admin);"
            f" mTLS on {cluster.mtls_bootstrap}, CA {cluster.certs.cafile}"
        )
    return 0


def _down(settings: Settings, args: argparse.Namespace) -> int:
    cluster = LocalCluster.existing(settings)
    target = cluster if cluster is not None else LocalBroker(settings)
    stopped = asyncio.run(target.down())
    print(f"kafka on {target.bootstrap} " + ("stopped" if stopped else "was not running"))
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    cluster = LocalCluster.existing(settings)
    if cluster is None:
        status = asyncio.run(LocalBroker(settings).status())
        state = "answering" if status.answering else "not answering"
        pid = f"pid {status.pid}" if status.pid else "no local process"
        print(f"kafka {status.bootstrap}: {state} ({pid}; log {status.log_file})")
        return 0 if status.answering else 3
    nodes = asyncio.run(cluster.status())
    for node in nodes:
        state = "answering" if node.answering else "not answering"
        pid = f"pid {node.pid}" if node.pid else "no local process"
        print(f"kafka node {node.node_id} {node.bootstrap}: {state} ({pid}; log {node.log_file})")
    return 0 if all(n.answering for n in nodes) else 3
