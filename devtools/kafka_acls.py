"""The ACLs of ``deploy/k8s/users.yaml``, written to the local secured cluster.

One source for both: :func:`devtools.deploy_manifests.kafka_users` declares
each principal and its ACLs (the Strimzi ``KafkaUser`` resources), and
:func:`acl_bindings` turns the same declarations into Kafka ACL bindings
(``User:<name>``, allow), written with one CreateAcls request
(:func:`create_acls`; aiokafka's admin client has no method for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest, CreateAclsRequestStruct

from core.errors import KafkaSetupError
from core.kafka.aiokafka_adapter import send_admin_request

# Kafka's codes (org.apache.kafka.common.resource / acl).
RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
PATTERN_TYPES = {"literal": 3, "prefix": 4}
OPERATIONS = {
    "All": 2,
    "Read": 3,
    "Write": 4,
    "Create": 5,
    "Delete": 6,
    "Alter": 7,
    "Describe": 8,
    "ClusterAction": 9,
    "DescribeConfigs": 10,
    "AlterConfigs": 11,
    "IdempotentWrite": 12,
}
ALLOW = 3
CLUSTER_NAME = "kafka-cluster"  # the one cluster resource's name


@dataclass(frozen=True)
class AclBinding:
    """One allow rule: ``principal`` may do ``operation`` on a resource."""

    principal: str
    resource_type: str
    resource_name: str
    pattern_type: str
    operation: str
    host: str = "*"

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        """The binding as CreateAcls v1+ carries it."""
        return (
            RESOURCE_TYPES[self.resource_type],
            self.resource_name,
            PATTERN_TYPES[self.pattern_type],
            self.principal,
            self.host,
            OPERATIONS[self.operation],
            ALLOW,
        )


def acl_bindings(users: Sequence[dict[str, Any]]) -> list[AclBinding]:
    """The bindings of Strimzi ``KafkaUser`` documents (``User:<metadata.name>``)."""
    bindings = []
    for user in users:
        principal = f"User:{user['metadata']['name']}"
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            bindings += [
                AclBinding(
                    principal=principal,
                    resource_type=resource["type"],
                    resource_name=resource.get("name", CLUSTER_NAME),
                    pattern_type=resource.get("patternType", "literal"),
                    operation=operation,
                    host=acl.get("host", "*"),
                )
                for operation in acl["operations"]
            ]
    return bindings


class _CreateAcls(CreateAclsRequest):  # type: ignore[misc]  # untyped in aiokafka
    """CreateAcls with many bindings in one request (aiokafka's class carries one)."""

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self._creations = [b.wire() for b in bindings]

    def build(self, request_struct_class: type[CreateAclsRequestStruct]) -> CreateAclsRequestStruct:
        if request_struct_class.API_VERSION < 1:  # v0 has no pattern types (no prefixes)
            raise KafkaSetupError("the broker offers CreateAcls v0 only: Kafka 2.0 or later needed")
        return request_struct_class(self._creations)


async def create_acls(admin: AIOKafkaAdminClient, bindings: Sequence[AclBinding]) -> int:
    """Create ``bindings`` (existing ones stay as they are); how many were sent."""
    chunk = 500
    for start in range(0, len(bindings), chunk):
        part = bindings[start : start + chunk]
        response = await send_admin_request(admin, _CreateAcls(part))
        for binding, (code, message) in zip(part, response.creation_responses, strict=True):
            if code != 0:
                raise KafkaSetupError(f"creating ACL {binding} failed: error {code} {message}")
    return len(bindings)
