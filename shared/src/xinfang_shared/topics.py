"""Every Kafka topic the system uses, with an explicit partition count.

Event topics are keyed by case id. Each consuming service has its own dead-letter topic.
``system.clock`` carries the manual clock's offset in demo/test mode (one partition: one order).
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared import events


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


CLOCK_TOPIC = "system.clock"
# supervision's emerging-incident detector: its feed (keyed by place|matter, written through
# supervision's outbox) and the faust changelog of its windowed table. Same partition count:
# a changelog partition must match its source partition.
EMERGING_FEED_TOPIC = "supervision.emerging-feed"
DEFAULT_SCOPE = "339900"


def emerging_changelog_topic(scope: str) -> str:
    """faust names a changelog ``<app id>-<table>-changelog``; the app id is per level."""
    return f"xinfang-supervision-{scope}-emerging-changelog"


# every consuming service (each has its dead-letter topic)
SERVICES = ("intake", "routing", "supervision", "notify", "reports")


def dlq_topic(service: str) -> str:
    return f"dlq.{service}"


def all_topics(partitions: int = 6, scopes: tuple[str, ...] = (DEFAULT_SCOPE,)) -> list[TopicSpec]:
    """Every topic of a cluster serving the deployments rooted at ``scopes`` (one per level:
    the event topics are shared, each level's supervision has its own changelog)."""
    names = sorted({model.TOPIC for model in events.EVENT_TYPES.values()})
    specs = [TopicSpec(name, partitions) for name in names]
    specs += [TopicSpec(dlq_topic(s), partitions) for s in SERVICES]
    specs.append(TopicSpec(EMERGING_FEED_TOPIC, partitions))
    specs += [TopicSpec(emerging_changelog_topic(s), partitions) for s in dict.fromkeys(scopes)]
    specs.append(TopicSpec(CLOCK_TOPIC, 1))
    return specs
