"""Error responses people can read: every 4xx names the field and the reason in Chinese and
English. The helpers are the platform's (:mod:`xinfang_shared.web`, installed on every service
by ``install_platform``); re-exported here for intake's modules."""

from __future__ import annotations

from xinfang_shared.http import error_body
from xinfang_shared.web import LoadShedding, describe, validation_handler

__all__ = ["LoadShedding", "describe", "error_body", "validation_handler"]
