"""Which partitions a stage's topics have (tolerant of topics created a moment ago), and
whether they suit the stage."""

from __future__ import annotations

import asyncio

from core.kafka.clients import admin_client
from router.runtime.config import StageConfig
from router.runtime.errors import StageConfigError


async def partitions_of(
    bootstrap: str, names: list[str], *, timeout_s: float, wait_s: float
) -> dict[str, list[int]]:
    """Partitions of each existing topic of ``names``.

    A topic created a moment ago may be unknown to the broker's metadata for a
    short while: look again for up to ``wait_s`` before calling it missing.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_s
    async with admin_client(bootstrap, timeout_s) as admin:
        while True:
            described = await admin.describe_topics(names)
            found = {
                topic["topic"]: sorted(p["partition"] for p in topic["partitions"])
                for topic in described
                if not topic.get("error_code", 0) and topic.get("partitions")
            }
            if len(found) == len(set(names)) or loop.time() > give_up:
                return found
            await asyncio.sleep(0.2)


async def check_stage_topics(config: StageConfig, *, stateful: bool) -> list[int]:
    """The changelog's partitions, once the stage's topics are known to be right.

    Raises :class:`StageConfigError` when a topic is missing or a stateful
    stage's inputs have other than exactly one partition (its state is one
    total order), :class:`KafkaUnavailableError` when the broker does not answer.
    """
    changelog = config.changelog_topic
    names = [*config.input_topics, *([changelog] if changelog else [])]
    found = await partitions_of(
        config.bootstrap, names, timeout_s=config.kafka_timeout_s, wait_s=config.topic_wait_s
    )
    missing = sorted(set(names) - set(found))
    if missing:
        raise StageConfigError(
            f"stage {config.name}: these topics do not exist: {', '.join(missing)} "
            "(create them with `unionhub topics ensure`)"
        )
    partitions = sum(len(found[name]) for name in config.input_topics)
    if stateful and partitions != 1:
        raise StageConfigError(
            f"stage {config.name}: a stateful stage needs exactly one input "
            f"partition, its inputs have {partitions}"
        )
    return found[changelog] if changelog is not None else []
