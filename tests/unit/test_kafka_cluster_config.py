"""The local cluster's shape without starting it: ports, listeners, replication, the ACLs
it writes (the deploy manifests' own), and the certificates it issues."""

from __future__ import annotations

import ssl
from pathlib import Path

from core.kafka.topics import TopicCatalog
from core.settings import Settings
from devtools.certs import CertificateAuthority
from devtools.deploy_manifests import kafka_users
from devtools.kafka_acls import acl_bindings
from devtools.kafka_cluster import LocalCluster
from unionhub.cli import build_parser


def _cluster(tmp_path: Path, brokers: int, secure: bool) -> LocalCluster:
    settings = Settings(kafka_bootstrap="127.0.0.1:20292", state_dir=tmp_path)
    return LocalCluster(settings, brokers=brokers, secure=secure)


def test_three_nodes_have_three_ports_each_and_replicate_three_times(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path, 3, secure=False)
    assert cluster.bootstrap == "127.0.0.1:20292,127.0.0.1:20295,127.0.0.1:20298"
    properties = cluster._properties(cluster.node(2))
    assert properties["node.id"] == "2"
    assert properties["controller.quorum.voters"] == (
        "1@127.0.0.1:20293,2@127.0.0.1:20296,3@127.0.0.1:20299"
    )
    assert properties["min.insync.replicas"] == "2"
    assert properties["default.replication.factor"] == "3"
    assert properties["transaction.state.log.min.isr"] == "2"
    assert properties["unclean.leader.election.enable"] == "false"
    assert "authorizer.class.name" not in properties
    single = _cluster(tmp_path, 1, secure=False)
    assert "min.insync.replicas" not in single._properties(single.node(1))


def test_a_secured_node_speaks_sasl_ssl_and_mtls_and_authorizes(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path, 1, secure=True)
    CertificateAuthority.create(cluster.certs.directory)
    properties = cluster._properties(cluster.node(1))
    assert properties["listener.security.protocol.map"] == (
        "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL"
    )
    assert properties["ssl.client.auth"] == "required"
    assert properties["authorizer.class.name"].endswith("StandardAuthorizer")
    assert properties["super.users"] == "User:broker;User:admin"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert "SCRAM-SHA-512" in properties["sasl.enabled.mechanisms"]
    scram = cluster._scram_arguments()
    assert scram.count("--add-scram") == 2 * len(cluster.principals())
    assert {"admin", "unionhub", "district-nanshan", "city-desk"} <= set(cluster.principals())
    assert cluster.password_file("unionhub").stat().st_mode & 0o077 == 0


def test_the_acls_written_are_the_deploy_manifests_own(tmp_path: Path) -> None:
    catalog = TopicCatalog("ns.")
    bindings = acl_bindings(kafka_users(catalog))
    nanshan = {
        (b.resource_type, b.resource_name, b.pattern_type, b.operation)
        for b in bindings
        if b.principal == "User:district-nanshan"
    }
    assert nanshan == {
        ("topic", "ns.dispatch.nanshan", "literal", "Read"),
        ("topic", "ns.dispatch.nanshan", "literal", "Describe"),
        ("topic", "ns.cases.actions.nanshan", "literal", "Write"),
        ("topic", "ns.cases.actions.nanshan", "literal", "Describe"),
        ("group", "district-nanshan", "prefix", "Read"),
        ("group", "district-nanshan", "prefix", "Describe"),
    }
    service = {(b.resource_name, b.operation) for b in bindings if b.principal == "User:unionhub"}
    assert ("ns.intake.raw.citizen_app", "Create") in service
    assert ("kafka-cluster", "IdempotentWrite") in service
    assert all(b.wire()[-1] == 3 for b in bindings)  # allow rules only


def test_issued_certificates_name_their_principal_and_chain_to_the_ca(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path)
    broker = ca.issue("broker", hosts=("127.0.0.1", "localhost"))
    context = ssl.create_default_context(cafile=ca.cafile)
    context.load_cert_chain(broker.certfile, broker.keyfile)
    assert broker.keyfile.stat().st_mode & 0o077 == 0
    assert b"PRIVATE KEY" in broker.keystore.read_bytes()
    assert CertificateAuthority.create(tmp_path).cafile.read_bytes() == ca.cafile.read_bytes()


def test_the_kafka_command_takes_secure_and_brokers() -> None:
    args = build_parser().parse_args(["kafka", "up", "--secure", "--brokers", "3"])
    assert (args.secure, args.brokers) == (True, 3)
