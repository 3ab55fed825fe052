"""The faust apps the services build (shared/consumer.py) need only the topics the launcher
creates, keep their changelogs out of faust's stalled-stream check, and keep their data
directories out of the working directory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import faust
import pytest
from xinfang_shared import logs
from xinfang_shared.topics import all_topics
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import bootstrap

ROOT = Path(__file__).resolve().parents[2]


def supervision_app(tmp_path: Path) -> faust.App:
    settings = SupervisionSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    runtime = bootstrap(settings).runtime
    assert runtime.faust_app is not None
    return runtime.faust_app


def topics_needed(app: faust.App) -> set[str]:
    """Every topic the app reads or writes once started (faust's leader election included)."""
    names = {t for agent in app.agents.values() for t in agent.channel.topics}
    names |= {table.changelog_topic.get_topic_name() for table in app.tables.values()}
    if not app.conf.topic_disable_leader:
        names.add(f"{app.conf.id}-__assignor-__leader")
    return names


def test_every_topic_the_app_needs_is_one_the_launcher_creates(tmp_path: Path) -> None:
    """A topic missing from the launcher's list is an ERROR in the log at every start
    ("Topic xinfang-supervision-339900-__assignor-__leader not found in cluster metadata")."""
    app = supervision_app(tmp_path)
    assert topics_needed(app) - {t.name for t in all_topics()} == set()


def test_changelogs_are_not_acknowledged_like_streams(tmp_path: Path) -> None:
    """An acknowledged topic with records no stream takes is reported by faust as a stalled
    stream ("Stream has not started processing ...-changelog") every 7 s after 5 minutes."""
    app = supervision_app(tmp_path)
    assert app.tables, "supervision's emerging-incident detector keeps a windowed table"
    assert [
        t.changelog_topic.get_topic_name() for t in app.tables.values() if t.changelog_topic.acks
    ] == []


def test_faust_data_directories_stay_out_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("APP_DATADIR", raising=False)
    datadir = supervision_app(tmp_path).conf.datadir.resolve()
    assert not datadir.is_relative_to(ROOT), datadir
    assert datadir.name == "xinfang-supervision-339900-data"

    monkeypatch.setenv("APP_DATADIR", str(tmp_path / "faust" / "{conf.name}"))  # as make run
    datadir = supervision_app(tmp_path).conf.datadir
    assert datadir == tmp_path / "faust" / "xinfang-supervision-339900"
    assert os.path.isdir(datadir.parent)  # faust creates the directory, not its parent


def _record(logger: str, msg: str) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.WARNING, __file__, 1, msg, None, None)


def test_only_faust_s_benign_recovery_messages_are_dropped() -> None:
    """(tests/e2e/test_healthy_logs.py checks a real service's log; services install the filter
    in ``logs.configure``.)"""
    benign = logs.BenignRecoveryNoise()
    name = "faust.tables.recovery"
    changelog = "TopicPartition(topic='xinfang-supervision-339900-emerging-changelog', partition=1)"
    assert not benign.filter(_record(name, f"recovery unknown topic {changelog} offset 7"))
    assert not benign.filter(
        _record(
            name,
            "Error in recovery cannot access local variable 'offsets' where it is not "
            "associated with a value",
        )
    )
    # anything else faust's recovery says still gets through
    assert benign.filter(_record(name, "Error in recovery KafkaConnectionError"))
    assert benign.filter(
        _record(name, "recovery unknown topic TopicPartition(topic='case.routed', partition=0)")
    )


def test_the_reports_read_every_case_topic_of_the_read_model_and_only_those(
    tmp_path: Path,
) -> None:
    from xinfang_reports.config import ReportsSettings
    from xinfang_reports.main import bootstrap as reports_bootstrap

    settings = ReportsSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    app = reports_bootstrap(settings).runtime.faust_app
    assert app is not None
    needed = topics_needed(app)
    assert needed - {t.name for t in all_topics()} == set()
    assert needed == {
        "petition.received",
        "case.routed",
        "case.linked",
        "case.status_changed",
        "deadline.overdue",
        "case.supervision_order",
        "case.escalated",
        "case.leader_named",
        "case.backlog",
        "alert.collective",
        "auth.revocations",  # every consuming service keeps the revoked tokens
    }
    assert "dlq.reports" in {t.name for t in all_topics()}
