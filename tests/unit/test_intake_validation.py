from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from xinfang_intake.errors import describe
from xinfang_intake.petitions.numbering import format_case_number
from xinfang_intake.petitions.schemas import Channel, PetitionCreate, clock_problems
from xinfang_intake.petitions.service import QUERY_CODE_ALPHABET, new_query_code
from xinfang_intake.petitions.validation import (
    InvalidValue,
    id_hash,
    mask_id_number,
    normalise_id_number,
    normalise_phone,
)

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example


def body(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "channel": "letter",
        "petitioners": [{"name": "张三", "id_number": VALID_ID, "phone": "13800138000"}],
        "receiving_office_code": "339922",
        "content": "村里修路占用了我家的宅基地，没有任何补偿。",
    }
    doc.update(overrides)
    return doc


def errors_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        PetitionCreate.model_validate(doc)
    return [describe(e) for e in info.value.errors()]


def test_valid_id_number_is_accepted_and_normalised() -> None:
    assert normalise_id_number(" 11010519491231002x ") == VALID_ID


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "id_number_checksum"),
        ("11010519491331002X", "id_number_birthdate"),
        ("1101051949123100", "id_number_format"),
        ("11010519491231002Y", "id_number_format"),
    ],
)
def test_invalid_id_numbers_are_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_id_number(raw)
    assert info.value.code == code
    assert info.value.zh and info.value.en


@pytest.mark.parametrize(
    "raw", ["13800138000", "+86 138 0013 8000", "0571-86001234", "057186001234"]
)
def test_phone_numbers(raw: str) -> None:
    assert normalise_phone(raw)


@pytest.mark.parametrize("raw", ["12345", "23800138000", "abc"])
def test_bad_phone_numbers(raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_phone(raw)


def test_id_number_is_masked_and_hashed_with_salt() -> None:
    assert mask_id_number(VALID_ID) == "110105********002X"
    assert id_hash(VALID_ID, "salt-a") != id_hash(VALID_ID, "salt-b")
    assert id_hash(VALID_ID, "salt-a") == id_hash(VALID_ID, "salt-a")


def test_channel_accepts_codes_and_chinese_labels() -> None:
    assert PetitionCreate.model_validate(body(channel="来访")).channel is Channel.VISIT
    assert PetitionCreate.model_validate(body(channel="网上信访")).channel is Channel.ONLINE
    assert (
        PetitionCreate.model_validate(body(channel="LEADER_MAILBOX")).channel
        is Channel.LEADER_MAILBOX
    )


def test_wrong_channel_names_the_field_and_the_choices() -> None:
    [err] = errors_of(body(channel="fax"))
    assert err["field"] == "channel"
    assert "来信" in err["message"] and "letter" in err["message_en"]


def test_missing_content_is_named_in_both_languages() -> None:
    doc = body()
    del doc["content"]
    [err] = errors_of(doc)
    assert err == {
        "field": "content",
        "code": "missing",
        "message": "必填项缺失",
        "message_en": "field required",
    }


def test_invalid_id_number_points_at_the_petitioner() -> None:
    [err] = errors_of(body(petitioners=[{"name": "李四", "id_number": "110105194912310021"}]))
    assert err["field"] == "petitioners.0.id_number"
    assert err["message"] == "身份证号码校验位错误"


def test_anonymous_rules() -> None:
    ok = PetitionCreate.model_validate(body(anonymous=True, petitioners=[]))
    assert ok.persons == 1
    [err] = errors_of(body(anonymous=True))
    assert err["code"] == "anonymous_with_petitioner"
    [err] = errors_of(body(petitioners=[]))
    assert err["code"] == "petitioner_required"


def test_persons_defaults_to_petitioners_and_cannot_be_fewer() -> None:
    two = [{"name": "甲"}, {"name": "乙"}]
    assert PetitionCreate.model_validate(body(petitioners=two)).persons == 2
    [err] = errors_of(body(petitioners=two, persons=1))
    assert err["code"] == "persons_too_few"


def test_unknown_units_and_villages_as_receiving_office_are_refused() -> None:
    assert errors_of(body(receiving_office_code="999999"))[0]["code"] == "org_code_unknown"
    assert errors_of(body(receiving_office_code="33992210120"))[0]["code"] == "org_code_format"
    assert errors_of(body(receiving_office_code="339922101201"))[0]["code"] == "org_not_office"
    assert errors_of(body(matter_location_code="339922999999"))[0]["code"] == "org_code_unknown"


def test_unknown_fields_and_blank_content_are_refused() -> None:
    assert errors_of(body(colour="red"))[0]["code"] == "extra_forbidden"
    assert errors_of(body(content="    "))[0]["code"] == "string_too_short"
    assert errors_of(body(content=" 太短 "))[0]["code"] == "string_too_short"


def test_naive_received_at_is_refused() -> None:
    assert errors_of(body(received_at="2026-03-01T09:00:00"))[0]["code"] == "datetime_naive"


def test_case_number_and_query_code_formats() -> None:
    assert format_case_number("339922", 2026, 42) == "339922-2026-000042"
    codes = {new_query_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(QUERY_CODE_ALPHABET) for c in codes)


# --- issue #13: text a person typed, strict JSON types, dates that cannot be -----------------

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SKEW, AGE = timedelta(minutes=5), timedelta(days=366)


def born_on(day: str) -> str:
    """A valid ID number (check character computed) of someone born on ``day`` (YYYYMMDD)."""
    head = f"110105{day}002"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return head + "10X98765432"[sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"petitioners": [{"name": "\u200b\u200d"}]}, "petitioners.0.name", "invisible_text"),
        ({"petitioners": [{"name": "\u2066\u2069"}]}, "petitioners.0.name", "bidi_control"),
        ({"petitioners": [{"name": "张\u202e三"}]}, "petitioners.0.name", "bidi_control"),
        ({"petitioners": [{"name": "张\x00三"}]}, "petitioners.0.name", "control_character"),
        (
            {"petitioners": [{"name": "张三", "address": "东岗村\x00"}]},
            "petitioners.0.address",
            "control_character",
        ),
        ({"title": "补偿\x00"}, "title", "control_character"),
        ({"category": "\x00"}, "category", "control_character"),
        ({"matter_address": "东岗\x07村"}, "matter_address", "control_character"),
        ({"content": "村里修路\x00占用了宅基地"}, "content", "control_character"),
        ({"receiving_office_code": "339922\x00"}, "receiving_office_code", "control_character"),
    ],
)
def test_text_with_control_or_invisible_characters_is_refused(
    overrides: dict[str, Any], field: str, code: str
) -> None:
    [err] = errors_of(body(**overrides))
    assert (err["field"], err["code"]) == (field, code)
    assert err["message"] and err["message_en"]


def test_content_keeps_its_line_breaks() -> None:
    text = "第一段：村里修路占用了宅基地。\n\t第二段：没有补偿。"
    assert PetitionCreate.model_validate(body(content=text)).content == text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"persons": True}, "persons"),
        ({"persons": "7"}, "persons"),
        ({"persons": 1000.0}, "persons"),
        ({"anonymous": 1, "petitioners": []}, "anonymous"),
        ({"accusation": "true"}, "accusation"),
    ],
)
def test_json_numbers_and_booleans_are_not_coerced(overrides: dict[str, Any], field: str) -> None:
    errors = errors_of(body(**overrides))
    assert errors[0]["field"] == field and errors[0]["code"] in {"int_type", "bool_type"}


def test_received_at_is_bounded_around_now() -> None:
    def problems(at: datetime) -> list[str]:
        data = PetitionCreate.model_validate(body(received_at=at.isoformat()))
        return [p["code"] for p in clock_problems(data, now=NOW, max_skew=SKEW, max_age=AGE)]

    assert problems(datetime(1, 1, 1, tzinfo=UTC)) == ["received_at_too_old"]
    assert problems(NOW - timedelta(days=367)) == ["received_at_too_old"]
    assert problems(NOW + timedelta(days=1)) == ["received_at_future"]
    assert problems(NOW + timedelta(minutes=4)) == []  # a desk clock a little ahead
    assert problems(NOW - timedelta(days=30)) == []


def test_an_id_number_born_after_the_petition_is_refused() -> None:
    def problems(day: str, received: datetime | None = None) -> list[dict[str, str]]:
        doc = body(petitioners=[{"name": "张三", "id_number": born_on(day)}])
        if received is not None:
            doc["received_at"] = received.isoformat()
        data = PetitionCreate.model_validate(doc)
        return clock_problems(data, now=NOW, max_skew=SKEW, max_age=AGE)

    [err] = problems("20300101")
    assert err["field"] == "petitioners.0.id_number"
    assert err["code"] == "id_number_future_birthdate" and "出生日期" in err["message"]
    assert problems("20260601") == []  # born today: a newborn's guardian may petition
    assert problems("20260520", NOW - timedelta(days=20))  # born after it was received
    assert problems("19800101") == []
    with pytest.raises(InvalidValue) as info:
        normalise_id_number(born_on("18991231"))
    assert info.value.code == "id_number_birthdate"
