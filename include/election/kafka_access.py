"""Who may do what on Kafka: the platform's principals, their SCRAM credentials and their ACLs, defined once.

The brokers authenticate every client (SASL/SCRAM-SHA-512; no anonymous access) and authorize with ACLs (Kafka's
StandardAuthorizer; nothing is allowed that is not granted here):

| Principal | May |
| --- | --- |
| admin | everything (a super user): `make up`, topics, operators' tools, the tests |
| seed | write `voters_topic` and `candidates_topic` |
| caster | read `voters_topic` in its own consumer groups, write `votes_topic` (the only writer of votes) |
| stream | read `votes_topic`; write the aggregated topics, dead letters, race calls, heartbeat; read back the |
|        | per-state-candidate totals and the race calls (a restarted job resumes its race desk from them) |
| dashboard | read the aggregated topics, the dead letters, the race calls, the results and the heartbeat |

`apply(settings)` creates or updates the credentials (a changed password is the new one from then on) and the
ACLs, idempotently, as the admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from election.config import KafkaPrincipal, Settings
from election.kafka_io import LIBRDKAFKA_LOGGER

SCRAM_ITERATIONS = 8192
# The consumer groups Spark's Kafka source names its consumers with (it never commits offsets in them).
SPARK_SOURCE_GROUPS = "spark-kafka-source"


@dataclass(frozen=True)
class Grant:
    resource: ResourceType
    name: str
    operations: tuple[AclOperation, ...]
    pattern: ResourcePatternType = ResourcePatternType.LITERAL


def _read(topic: str) -> Grant:
    return Grant(ResourceType.TOPIC, topic, (AclOperation.READ, AclOperation.DESCRIBE))


def _write(topic: str) -> Grant:
    return Grant(ResourceType.TOPIC, topic, (AclOperation.WRITE, AclOperation.DESCRIBE))


def _groups(prefix: str) -> Grant:
    return Grant(ResourceType.GROUP, prefix, (AclOperation.READ, AclOperation.DESCRIBE), ResourcePatternType.PREFIXED)


def grants(settings: Settings) -> dict[str, tuple[KafkaPrincipal, list[Grant]]]:
    """Each application principal with what it may do (the admin is a super user: it needs no grant)."""
    t = settings.topics
    shown = [*t.aggregated(), t.votes_dead_letter, t.race_calls, t.election_results, t.stream_heartbeat]
    return {
        "seed": (settings.kafka_seed, [_write(t.voters), _write(t.candidates)]),
        "caster": (
            settings.kafka_caster,
            [_read(t.voters), _write(t.votes), _groups(f"{settings.vote_caster_group}-")],
        ),
        "stream": (
            settings.kafka_stream,
            [
                _read(t.votes),
                *(_write(topic) for topic in (*t.aggregated(), t.votes_dead_letter, t.race_calls, t.stream_heartbeat)),
                _read(t.votes_per_state_candidate),
                _read(t.race_calls),
                _groups(SPARK_SOURCE_GROUPS),
            ],
        ),
        "dashboard": (settings.kafka_dashboard, [*(_read(topic) for topic in shown), _groups("election-dashboard-")]),
    }


def acl_bindings(principal: str, granted: Iterable[Grant]) -> list[AclBinding]:
    """One binding per (resource, operation): a topic read and written is described once."""
    unique = {
        (grant.resource, grant.name, grant.pattern, operation): None
        for grant in granted
        for operation in grant.operations
    }
    return [
        AclBinding(resource, name, pattern, f"User:{principal}", "*", operation, AclPermissionType.ALLOW)
        for resource, name, pattern, operation in unique
    ]


def apply(settings: Settings, *, timeout: float = 30.0) -> list[str]:
    """Create or update every application principal's SCRAM credential and ACLs (as the admin); their names."""
    admin = AdminClient(settings.kafka_client_config(logger=LIBRDKAFKA_LOGGER))
    granted = grants(settings)
    credentials = [
        UserScramCredentialUpsertion(
            principal.username,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            (principal.password or "").encode(),
        )
        for principal, _ in granted.values()
        if principal.username
    ]
    for future in admin.alter_user_scram_credentials(credentials, request_timeout=timeout).values():
        future.result()
    bindings = [
        binding
        for principal, rules in granted.values()
        if principal.username
        for binding in acl_bindings(principal.username, rules)
    ]
    for future in admin.create_acls(bindings, request_timeout=timeout).values():
        future.result()
    return [principal.username for principal, _ in granted.values() if principal.username]


def admin_credential(settings: Settings) -> UserScramCredentialUpsertion:
    """The admin's own SCRAM credential (set when the broker's storage is formatted, or by a bootstrap)."""
    admin = settings.kafka_admin
    return UserScramCredentialUpsertion(
        admin.username or "",
        ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
        (admin.password or "").encode(),
    )
