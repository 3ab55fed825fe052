"""The workbench's 登记 and 管理 forms, pure: what a registrar or an administrator typed →
the API's body; the API's answers → what the page shows (no codes where a person reads)."""

from __future__ import annotations

from datetime import date

from xinfang_shared import org
from xinfang_workbench.admin import forms as admin
from xinfang_workbench.register import forms as reg

ZHANG = "330922198001010017"


def visit(**extra: str) -> dict[str, str]:
    return {
        "channel": "visit",
        "receiving_office_code": "339922",
        "persons": "2",
        "petitioners.0.name": " 张三 ",
        "petitioners.0.id_number": ZHANG,
        "petitioners.0.phone": "",
        "petitioners.0.representative": "1",
        "place.1": "339922101",
        "place.2": "339922101201",
        "content": "  征地补偿款未发放  ",
        "letter_date": "2026-01-02",  # another channel's field: not sent for a visit
        "caller_phone": "13800138000",
        **extra,
    }


def test_a_visit_becomes_the_petition_body() -> None:
    built = reg.build(visit())
    assert built.body == {
        "channel": "visit",
        "anonymous": False,
        "accusation": False,
        "receiving_office_code": "339922",
        "content": "征地补偿款未发放",
        "matter_location_code": "339922101201",  # the village chosen under the township
        "persons": 2,
        "petitioners": [{"name": "张三", "id_number": ZHANG, "representative": True}],
    }
    assert built.rows == [0]


def test_each_channel_sends_its_own_fields_only() -> None:
    letter = reg.build(visit(channel="letter")).body
    assert letter["letter_date"] == "2026-01-02"
    assert "caller_phone" not in letter and "persons" not in letter
    assert "representative" not in letter["petitioners"][0]
    phone = reg.build(visit(channel="phone")).body
    assert phone["caller_phone"] == "13800138000" and "letter_date" not in phone


def test_what_is_not_a_number_goes_as_typed_for_the_api_to_name() -> None:
    assert reg.build(visit(persons="两人")).body["persons"] == "两人"
    assert "persons" not in reg.build(visit(persons="")).body


def test_received_time_carries_the_deployments_zone() -> None:
    assert reg.received_at("2026-05-01T09:30") == "2026-05-01T09:30:00+08:00"
    assert reg.received_at("2026-05-01") == "2026-05-01T09:00:00+08:00"
    assert reg.received_at("昨天") == "昨天"


def test_the_township_alone_is_a_place() -> None:
    assert reg.matter_location({"place.1": "339922101", "place.2": ""}) == "339922101"
    assert reg.matter_location({}) is None


def test_empty_rows_are_skipped_and_errors_come_back_to_the_rows_typed() -> None:
    values = visit(
        **{
            "petitioners.0.name": "",
            "petitioners.0.id_number": "",
            "petitioners.0.representative": "",
            "petitioners.1.name": "李四",
            "petitioners.2.name": "王五",
            "petitioners.2.id_number": "330922198001010018",
        }
    )
    built = reg.build(values)
    assert [p["name"] for p in built.body["petitioners"]] == ["李四", "王五"]
    assert built.rows == [1, 2]
    errors = reg.errors_for_form(
        {"petitioners.1.id_number": "身份证号码校验位错误", "content": "太短", "body": "总体"},
        built.rows,
    )
    assert errors == {
        "petitioners.2.id_number": "身份证号码校验位错误",
        "content": "太短",
        "body": "总体",
    }
    assert reg.form_rows(values) == 3


def test_an_anonymous_item_names_nobody_and_a_link_is_sent_as_repeat_of() -> None:
    body = reg.build(visit(anonymous="1", link_to="QH2026-000001")).body
    assert "petitioners" not in body and body["anonymous"] is True
    assert body["repeat_of"] == "QH2026-000001"


def test_the_open_case_lookup_is_skipped_once_the_registrar_decided() -> None:
    assert reg.duplicate_keys(visit()) == [("id_number", ZHANG)]
    assert reg.duplicate_keys(visit(dup_ok="1")) == []
    assert reg.duplicate_keys(visit(link_to="QH2026-000001")) == []
    bad_id = visit(
        **{"petitioners.0.id_number": "330922198001010018", "petitioners.0.phone": "13800138000"}
    )
    assert reg.duplicate_keys(bad_id) == [("phone", "13800138000")]


def test_gb11643_as_the_browser_checks_it() -> None:
    assert reg.id_number_problem(ZHANG) is None
    assert reg.id_number_problem("11010519491231002x") is None
    assert reg.id_number_problem("330922198001010018") == "身份证号码校验位错误"
    assert reg.id_number_problem("330922198002300017") == "身份证号码中的出生日期无效"
    assert reg.id_number_problem("3309221980") == "身份证号码应为18位（最后一位可为X）"
    assert reg.id_number_problem(ZHANG, today=date(1979, 1, 1)) == "身份证号码中的出生日期无效"


def test_offices_and_places_are_named() -> None:
    tree = org.default_tree()
    offices = dict(reg.offices(tree, "339922"))
    assert offices["339922"] == "清河县信访局"
    assert offices["339922101"] == "清河镇信访办"
    assert not any(len(code) == 12 for code in offices)  # villages have no petition office
    villages = reg.children_of_tree(tree, "339922101")
    assert {"code": "339922101201", "name": "东岗村"}.items() <= villages[0].items()


def test_the_classifiers_answer_as_a_suggestion() -> None:
    s = reg.suggestion_of(
        {
            "category": "land_requisition",
            "category_name": "土地征收补偿",
            "abstain": False,
            "accusation": True,
            "legal": False,
            "suggestions": [
                {"category": "land_requisition", "name": "土地征收补偿", "probability": 0.812}
            ],
        }
    )
    assert s["text"] == "系统建议类别：土地征收补偿"
    assert s["suggestions"] == [{"code": "land_requisition", "name": "土地征收补偿", "percent": 81}]
    assert any("检举人身份加密保存" in n for n in s["notes"])
    unsure = reg.suggestion_of({"category": None, "abstain": True, "suggestions": []})
    assert unsure["text"] == "系统无把握识别类别，将转人工分办"


def test_the_receipt_waits_for_deadlines() -> None:
    created = {
        "case_id": "c1",
        "case_number": "QH2026-000001",
        "query_code": "ABCD1234",
        "status_label": "已登记",
        "received_at": "2026-05-01T01:30:00+00:00",
        "collective": False,
        "informant_sealed": False,
    }
    r = reg.receipt(created, None, channel="visit", office="清河县信访局")
    assert r["deadlines"] == [] and r["channel_label"] == "来访"
    status = {
        "deadlines": [
            {"label": "受理告知", "due_date": "2026-05-16", "due_date_label": "2026年5月16日"}
        ]
    }
    r = reg.receipt(created, status, channel="visit", office="清河县信访局")
    assert r["deadlines"] == [{"label": "受理告知", "due": "2026年5月16日"}]


def test_account_bodies() -> None:
    values = {
        "username": " liutang.desk2 ",
        "display_name": "新登记员",
        "password": " pass word ",
        "role": "registrar",
        "org_code": "339922102",
    }
    assert admin.create_body(values) == {
        "username": "liutang.desk2",
        "display_name": "新登记员",
        "password": " pass word ",
        "role": "registrar",
        "org_code": "339922102",
    }
    assert admin.patch_body("disable", {}) == {"active": False}
    assert admin.patch_body("enable", {}) == {"active": True}
    assert admin.patch_body("password", {"password": "abcdefgh"}) == {"password": "abcdefgh"}
    assert admin.patch_body("role", {"role": "handler"}) == {"role": "handler"}
    assert admin.patch_body("drop", {}) is None


def test_accounts_are_shown_by_name_active_first() -> None:
    rows = admin.user_rows(
        [
            {
                "username": "b",
                "name": "乙",
                "role": "admin",
                "role_label": "管理员",
                "org_name": "清河县",
                "active": False,
                "created_at": None,
            },
            {
                "username": "a",
                "name": "甲",
                "role": "registrar",
                "role_label": "登记员",
                "org_name": "清河县",
                "active": True,
                "created_at": None,
            },
        ]
    )
    assert [(r["username"], r["state_label"]) for r in rows] == [("a", "在用"), ("b", "已停用")]
    choices = dict(admin.org_choices(org.default_tree(), "339922"))
    assert choices["339922"] == "清河县"
    assert choices["339922102"].strip() == "柳塘乡"
    assert "339922-zrzy" in choices and not any(len(c) == 12 and c.isdigit() for c in choices)
    assert dict(admin.ROLE_CHOICES)["registrar"] == "登记员"


def test_org_tree_problems_say_where_in_chinese() -> None:
    assert admin.problem_place("units[3].parent") == "第 4 个单位 · 上级单位"
    assert admin.problem_place("departments[0].competences") == "第 1 个部门 · 职责范围"
    assert admin.problem_place("$") == "整个文件"
    rows = admin.tree_problems(
        {
            "problems": [
                {
                    "path": "units[3].parent",
                    "message": "上级单位 339922999 不存在",
                    "message_en": "x",
                }
            ],
            "holding": [{"code": "339922-zrzy", "name": "清河县自然资源和规划局", "open_cases": 2}],
        }
    )
    assert rows == [
        {"where": "第 4 个单位 · 上级单位", "message": "上级单位 339922999 不存在"},
        {"where": "清河县自然资源和规划局", "message": "仍有 2 件在办案件"},
    ]
