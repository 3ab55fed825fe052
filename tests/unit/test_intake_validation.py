from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from xinfang_intake.errors import describe
from xinfang_intake.petitions.numbering import format_case_number
from xinfang_intake.petitions.schemas import Channel, PetitionCreate
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


def test_naive_received_at_is_refused() -> None:
    assert errors_of(body(received_at="2026-03-01T09:00:00"))[0]["code"] == "datetime_naive"


def test_case_number_and_query_code_formats() -> None:
    assert format_case_number("339922", 2026, 42) == "339922-2026-000042"
    codes = {new_query_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(QUERY_CODE_ALPHABET) for c in codes)
