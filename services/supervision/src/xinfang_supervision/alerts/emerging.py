"""群体性苗头: individual items about one matter from one place, counted in a sliding window.

How it works:
1. When supervision opens a case whose matter has a place (a village/community, else a
   township) and a category, it writes a feed message through its outbox to
   ``supervision.emerging-feed``, keyed by ``place|category`` (so one place+matter is always on
   one partition, and the windowed table is co-partitioned with its source).
2. A faust agent reads the feed and adds the item's petitioner to a hopping-window table
   (default: 24 h windows every 1 h) keyed by ``place|category``; the value of each window is
   ``{petitioner key: [case id, case number]}``, so the count is of *distinct* petitioners.
3. When a window containing the item has reached the threshold, an alert is raised, unless one
   was already raised for this place+matter with a window that overlaps this one: then the new
   members join that alert (no alert storm as more items arrive). Items may arrive out of time
   order, so "overlaps" is checked on both ends of the window. The check looks at the state,
   not at the increment, so a redelivered feed message changes nothing and a failed attempt is
   made good by the next item.

The database is the system of record for alerts (``sup_emerging_alerts``), written in one
transaction with the ``alert.emerging`` event (outbox).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from xinfang_shared import org
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import CaseRouted, EmergingAlert, EmergingMember, new_event
from xinfang_shared.levels import Deployment
from xinfang_shared.retry import Backoff, retry
from xinfang_shared.topics import EMERGING_FEED_TOPIC, emerging_changelog_topic

from xinfang_supervision.models import emerging_alerts, outbox

log = logging.getLogger(__name__)

SOURCE = "/xinfang/supervision"
TABLE_NAME = "emerging"  # faust names its changelog <app id>-<table>-changelog


def feed(uow: UnitOfWork, box: Table, routed: CaseRouted, now: datetime) -> None:
    """Stage the feed message for a newly opened case (same transaction as the case)."""
    item = {
        "case_id": routed.case_id,
        "case_number": routed.case_number,
        "petitioner_key": routed.petitioner_key,
        "place_code": routed.place_code,
        "place_name": routed.place_name,
        "category": routed.category,
        "category_name": routed.category_name or routed.category,
        "responsible_code": routed.to_unit_code,
        "ts": routed.received_at.timestamp(),
    }
    uow.add(
        box,
        {
            "event_id": f"feed-{routed.case_id}",
            "topic": EMERGING_FEED_TOPIC,
            "key": f"{routed.place_code}|{routed.category}",
            "value": json.dumps(item, ensure_ascii=False),
            "created_at": now,
        },
    )


@dataclass(frozen=True)
class EmergingConfig:
    window_s: float = 24 * 3600
    step_s: float = 3600
    threshold: int = 5


def office_of(tree: org.OrgTree, place_code: str) -> str:
    """The petition office that answers for a place: the township's 信访办 (a village's
    township), else the nearest one above."""
    for unit in tree.ancestors(place_code):
        if unit.level == org.Level.VILLAGE:
            continue
        office = tree.petition_office(unit.code)
        if office is not None:
            return office.code
    return place_code


class EmergingDetector:
    def __init__(
        self,
        *,
        config: EmergingConfig,
        tree: org.OrgTree,
        partitions: int,
        deployment: Deployment | None = None,
    ) -> None:
        self.config = config
        self._tree = tree
        self._deployment = deployment or Deployment("339900")
        self._partitions = partitions
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._on_commit: Callable[[], None] = lambda: None
        self._window = faust.HoppingWindow(
            config.window_s, config.step_s, expires=config.window_s + config.step_s
        )
        self._cap = max(2 * config.threshold, 20)  # members kept per window
        self.items = 0
        self.raised = 0
        self.joined = 0

    def bind(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        on_commit: Callable[[], None],
    ) -> None:
        """Give the detector the service's database and clock (once the runtime exists)."""
        self._sessions, self._now, self._on_commit = sessions, clock, on_commit

    def install(self, app: faust.App) -> None:
        """Declare the feed topic, the windowed table and the agent on the service's app."""
        source = app.topic(EMERGING_FEED_TOPIC, key_serializer="raw", value_serializer="raw")
        table = app.Table(
            TABLE_NAME,
            default=dict,
            partitions=self._partitions,
            schema=faust.Schema(key_serializer="json", value_serializer="json"),
        ).hopping(
            self.config.window_s,
            self.config.step_s,
            expires=self.config.window_s + self.config.step_s,
        )
        table = table.relative_to(_event_time)  # type: ignore[attr-defined]
        # faust names a changelog after the app id, which carries XF_KAFKA_GROUP_SUFFIX: name
        # it after the level alone, the topic the launcher creates
        inner = table.table
        inner.changelog_topic = inner.changelog_topic.derive(
            topics=[emerging_changelog_topic(self._deployment.scope)]
        )
        assert inner.changelog_topic.get_topic_name() == emerging_changelog_topic(
            self._deployment.scope
        )
        detector = self

        async def detect(stream: Any) -> None:
            async for event in stream.events():
                if event.value is None:
                    continue  # the launcher's record that opens a new partition
                try:
                    item = json.loads(event.value)
                    key = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
                except (ValueError, AttributeError) as exc:
                    log.error("emerging feed: unreadable message skipped: %s", exc)
                    continue
                if not detector._deployment.owns(detector._tree, item.get("place_code")):
                    continue  # the feed is shared: the level that serves the place counts it
                await detector.observe(table, key, item)

        app.agent(source, name="xinfang-supervision-emerging")(detect)

    async def observe(self, table: Any, key: str, item: dict[str, Any]) -> None:
        """Count one item (inside the agent: faust's current event is this item)."""
        self.items += 1
        who = item.get("petitioner_key") or f"anon:{item['case_id']}"
        me = [item["case_id"], item["case_number"]]
        windows = table[key]
        crossing = []
        for window in self._window.ranges(item["ts"]):
            members = windows[window]
            if who not in members and len(members) < self._cap:
                # a window past the threshold needs no more members: later ones join the
                # alert in the database; this keeps each changelog write small under a flood
                members = {**members, who: me}
                windows[window] = members
            if len(members) >= self.config.threshold:
                crossing.append((window, members))
        if not crossing:
            return
        # the window with the most petitioners (the earliest of equals) describes the alert
        window, members = max(crossing, key=lambda wm: (len(wm[1]), -wm[0][0]))
        await self._record(item, window, {**members, who: me})

    async def _record(
        self, item: dict[str, Any], window: tuple[float, float], members: dict[str, Any]
    ) -> None:
        backoff = Backoff(0.2, cap=5.0)

        def wait(exc: Exception, failures: int) -> float | None:
            log.warning("emerging alert not recorded yet (attempt %d): %r", failures, exc)
            return backoff.next_delay() if failures < 7 else None

        try:
            await retry(lambda: self._record_once(item, window, members), wait=wait)
        except Exception:
            # The table keeps the count: the next item of this place+matter raises it.
            log.error("emerging alert for %s not recorded; will retry on the next item", item)
            return
        self._on_commit()

    async def _record_once(
        self, item: dict[str, Any], window: tuple[float, float], members: dict[str, Any]
    ) -> None:
        start = datetime.fromtimestamp(window[0], UTC)
        end = datetime.fromtimestamp(window[0] + self.config.window_s, UTC)
        listed = [{"case_id": c, "case_number": n} for c, n in members.values()]
        now = self._now()
        assert self._sessions is not None, "bind() the detector before its agent runs"
        async with self._sessions() as session, session.begin():
            existing = (
                await session.execute(
                    select(emerging_alerts)
                    .where(emerging_alerts.c.place_code == item["place_code"])
                    .where(emerging_alerts.c.category == item["category"])
                    # overlapping windows only: items reach the detector out of time order
                    # (the feed is written as cases open, from many partitions)
                    .where(emerging_alerts.c.window_end > start)
                    .where(emerging_alerts.c.window_start < end)
                    .order_by(emerging_alerts.c.raised_at.desc())
                    .limit(1)
                )
            ).first()
            if existing is not None:
                known = {m["case_id"] for m in existing.members}
                added = [m for m in listed if m["case_id"] not in known]
                if added:
                    await session.execute(
                        update(emerging_alerts)
                        .where(emerging_alerts.c.alert_id == existing.alert_id)
                        .values(
                            members=[*existing.members, *added],
                            petitioners=max(existing.petitioners, len(listed)),
                            updated_at=now,
                        )
                    )
                    self.joined += len(added)
                return
            alert_id = str(uuid.uuid4())
            await session.execute(
                emerging_alerts.insert().values(
                    alert_id=alert_id,
                    place_code=item["place_code"],
                    category=item["category"],
                    window_start=start,
                    window_end=end,
                    petitioners=len(listed),
                    members=listed,
                    raised_at=now,
                    updated_at=now,
                )
            )
            alert = EmergingAlert(
                case_id=item["case_id"],
                case_number=item["case_number"],
                alert_id=alert_id,
                place_code=item["place_code"],
                place_name=item.get("place_name") or item["place_code"],
                category=item["category"],
                category_name=item.get("category_name") or item["category"],
                petitioners=len(listed),
                threshold=self.config.threshold,
                window_start=start,
                window_end=end,
                members=[EmergingMember(**m) for m in listed],
                office_code=office_of(self._tree, item["place_code"]),
                responsible_code=item.get("responsible_code"),
                raised_at=now,
            )
            async with UnitOfWork(session) as uow:
                uow.emit(outbox, new_event(data=alert, source=SOURCE, time=now), now=now)
            self.raised += 1
            log.warning(
                "群体性苗头: %s %s, %d petitioners in the window from %s",
                alert.place_name,
                alert.category_name,
                alert.petitioners,
                start.isoformat(),
            )


def _event_time(event: Any) -> float:
    """Window by when the item was received (event time), not by when it is processed."""
    return float(json.loads(event.value)["ts"])


async def list_alerts(*, session: AsyncSession, limit: int = 100) -> list[dict[str, Any]]:
    """The newest alerts first."""
    rows = await session.execute(
        select(emerging_alerts).order_by(emerging_alerts.c.raised_at.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]
