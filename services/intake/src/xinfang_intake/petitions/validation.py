"""Checks on Chinese identity numbers and phone numbers (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime, timedelta

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_FORMAT = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


class InvalidValue(ValueError):
    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def normalise_id_number(raw: str) -> str:
    """Validate a GB 11643 resident identity number (18 digits, check character) and
    return it upper-cased. Raises :class:`InvalidValue`."""
    value = raw.strip().upper()
    if not _ID_FORMAT.match(value):
        raise InvalidValue(
            "id_number_format",
            "身份证号码应为18位（最后一位可为X）",
            "ID number must be 18 characters: 17 digits and a digit or X",
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900:
        raise InvalidValue(
            "id_number_birthdate",
            "身份证号码中的出生日期无效",
            "ID number has an invalid birth date",
        )
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise InvalidValue(
            "id_number_checksum", "身份证号码校验位错误", "ID number check digit is wrong"
        )
    return value


def id_birthdate(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def birthdate_problem(id_number: str, *, on: date) -> InvalidValue | None:
    """Why a (well-formed) ID number cannot belong to someone alive on ``on``, or None."""
    if id_birthdate(id_number) > on:
        return InvalidValue(
            "id_number_future_birthdate",
            "身份证号码中的出生日期晚于收到日期，请核对",
            "ID number has a birth date after the day the petition was received",
        )
    return None


def received_at_problem(
    received_at: datetime, *, now: datetime, max_skew: timedelta, max_age: timedelta
) -> InvalidValue | None:
    """Why ``received_at`` cannot be when a petition was received, or None: not later than
    ``now`` beyond a clock skew, not earlier than ``max_age`` ago."""
    if received_at > now + max_skew:
        return InvalidValue(
            "received_at_future",
            "收到时间晚于当前时间，请核对",
            "received_at is in the future",
        )
    if received_at < now - max_age:
        return InvalidValue(
            "received_at_too_old",
            f"收到时间早于 {max_age.days} 天前，请核对（补录更早的事项请联系管理员）",
            f"received_at is more than {max_age.days} days ago",
        )
    return None


def normalise_phone(raw: str) -> str:
    value = re.sub(r"[\s()]", "", raw.strip())
    if value.startswith("+86"):
        value = value[3:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    raise InvalidValue(
        "phone_format",
        "电话号码格式无效（手机号11位，或带区号的固定电话）",
        "phone must be an 11-digit mobile number or a landline with area code",
    )


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


def id_hash(id_number: str, salt: str) -> str:
    """Salted hash used to match the same petitioner across cases without sharing the number."""
    return hmac.new(salt.encode(), id_number.encode(), hashlib.sha256).hexdigest()
