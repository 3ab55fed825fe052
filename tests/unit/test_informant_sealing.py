"""检举控告: the sealing of an informant's identity (AES-GCM), which petitions intake seals, and
that routing's notion of an accusation agrees with intake's."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from xinfang_intake.config import IntakeSettings
from xinfang_intake.petitions.accusation import (
    ACCUSATION_CATEGORIES,
    ACCUSATION_WORDS,
    accusation_reason,
)
from xinfang_intake.petitions.schemas import PetitionCreate
from xinfang_intake.petitions.sealing import (
    DEMO_INFORMANT_KEY,
    InformantCipher,
    InvalidKey,
    SealBroken,
    new_key,
    parse_key,
)
from xinfang_routing.cases.decision import decide
from xinfang_routing.classifier import default_classifier
from xinfang_routing.rules import default_rules
from xinfang_shared import classifier, org
from xinfang_shared.events import PetitionReceived

INFORMANT = [{"name": "李秀英", "id_number": "11010519491231002X", "phone": "13905710001"}]


def cipher() -> InformantCipher:
    return InformantCipher(parse_key(new_key()))


def test_identity_round_trips_and_each_seal_is_different() -> None:
    c = cipher()
    a = c.seal_json(INFORMANT, context="case-1")
    b = c.seal_json(INFORMANT, context="case-1")
    assert a != b  # a fresh nonce every time: equal identities do not look equal at rest
    assert c.open_json(a, context="case-1") == c.open_json(b, context="case-1") == INFORMANT
    assert "李秀英".encode() not in a and b"13905710001" not in a


@pytest.mark.parametrize("where", [0, 10, 25, -1])  # version, nonce, ciphertext, tag
def test_any_changed_byte_is_detected(where: int) -> None:
    c = cipher()
    sealed = bytearray(c.seal_json(INFORMANT, context="case-1"))
    sealed[where] ^= 0x01
    with pytest.raises(SealBroken) as broken:
        c.open(bytes(sealed), context="case-1")
    assert broken.value.reason in {"tampered", "malformed"}


def test_a_sealed_identity_moved_to_another_case_does_not_open() -> None:
    c = cipher()
    sealed = c.seal_json(INFORMANT, context="case-1")
    with pytest.raises(SealBroken) as broken:
        c.open(sealed, context="case-2")
    assert broken.value.reason == "tampered"


def test_another_key_is_told_apart_from_tampering() -> None:
    sealed = cipher().seal_json(INFORMANT, context="case-1")
    with pytest.raises(SealBroken) as broken:
        cipher().open(sealed, context="case-1")
    assert broken.value.reason == "wrong_key"
    with pytest.raises(SealBroken) as short:
        cipher().open(sealed[:20], context="case-1")
    assert short.value.reason == "malformed"


def test_key_setting_accepts_32_bytes_of_base64_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XF_INFORMANT_KEY", raising=False)
    raw = os.urandom(32)
    assert parse_key(base64.b64encode(raw).decode()) == raw
    assert parse_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    for bad in ("", "short", base64.b64encode(os.urandom(16)).decode(), "not base64 at all!!"):
        with pytest.raises(InvalidKey):
            parse_key(bad)
    with pytest.raises(ValidationError, match="XF_INFORMANT_KEY"):
        IntakeSettings(XF_INFORMANT_KEY="too-short-to-be-a-key")
    assert IntakeSettings().informant_key == DEMO_INFORMANT_KEY  # the demo default
    key = new_key()
    assert IntakeSettings(XF_INFORMANT_KEY=key).informant_key == key


def create(**kw: Any) -> PetitionCreate:
    doc: dict[str, Any] = {
        "channel": "letter",
        "petitioners": INFORMANT,
        "receiving_office_code": "339922",
        "content": "村里的路灯坏了很久，希望尽快修好。",
    }
    doc.update(kw)
    return PetitionCreate.model_validate(doc)


def sealed(data: PetitionCreate) -> str | None:
    return accusation_reason(data, model=classifier.load())


def test_intake_seals_on_the_registrars_word_the_category_or_a_word_of_accusation() -> None:
    assert sealed(create()) is None
    assert sealed(create(accusation=True)) == "registrar"
    assert sealed(create(category="检举控告")) == "category"
    assert sealed(create(category="cadre_report")) == "category"
    assert sealed(create(title="实名举报村主任")) == "words"
    assert sealed(create(content="我要控告镇干部吃拿卡要，请求查处。")) == "words"
    assert sealed(create(content="检举某局长收受好处费。", accusation=False)) == "words"
    with pytest.raises(ValidationError):
        create(accusation="maybe")


@pytest.mark.parametrize(
    "content",
    [
        "村支书把上面拨给困难户的救济款扣下来，一部分自己花了，一部分给了他亲戚。",
        "镇上管审批的那个副镇长，办个厂房手续非要我们请吃饭、塞红包，不给就一直拖着不批。",
        "我们村会计这几年把集体鱼塘承包费揣进自己口袋，账上一笔都查不到，村民敢怒不敢言。",
    ],
)
def test_an_accusation_in_everyday_words_is_sealed_even_against_the_registrars_no(
    content: str,
) -> None:
    """No 举报/检举/控告 and no category: the shared classifier tells it, and the registrar's
    `accusation: false` cannot unseal it."""
    assert sealed(create(content=content, accusation=False)) == "model"


@pytest.mark.parametrize(
    "content",
    [
        "村里的路灯坏了很久，晚上出门黑漆漆的，希望尽快修好。",
        "小区物业费年年涨，电梯坏了半个月没人修，业主们很有意见。",
        "建议县里在汽车站附近多设几个公交站台，方便老人孩子上下车。",
    ],
)
def test_an_ordinary_petition_is_not_sealed(content: str) -> None:
    assert sealed(create(content=content)) is None


def test_intakes_accusation_rule_is_routings() -> None:
    rules = default_rules()
    accusation_rules = [r for r in rules.categories.values() if r.kind == "检举控告"]
    assert accusation_rules and all(r.confidential for r in accusation_rules)
    assert ACCUSATION_CATEGORIES == {r.code for r in accusation_rules} | {
        r.name for r in accusation_rules
    }
    classifier = default_classifier()
    weights = classifier.weights["cadre_report"]
    assert all(weights.get(word, 0) >= classifier.min_score for word in ACCUSATION_WORDS)


def received(**kw: Any) -> PetitionReceived:
    base: dict[str, Any] = dict(
        case_id="c-1",
        case_number="n-1",
        channel="letter",
        received_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        receiving_office_code="339922",
        receiving_office_name="清河县信访局",
        anonymous=False,
        persons=1,
        petitioners=[{"name": "检举人（保密）"}],
    )
    base.update(kw)
    return PetitionReceived.model_validate(base)


def test_routing_keeps_a_sealed_informant_confidential_and_away_from_departments() -> None:
    kw: dict[str, Any] = dict(
        category="环境污染", content="化工厂夜里向河里偷排污水，环保部门视而不见。"
    )
    args: dict[str, Any] = dict(
        tree=org.default_tree(), rules=default_rules(), model=classifier.load()
    )
    plain = decide(received(**kw), **args)
    assert plain.category == "environment_pollution" and not plain.confidential
    assert plain.responsible_department == "339922-sthj"
    sealed = decide(received(informant_sealed=True, **kw), **args)
    assert sealed.category == "environment_pollution"  # the registrar's category is kept
    assert sealed.confidential and sealed.kind == "检举控告"
    # but a sealed item reaches only 纪检监察 or, to be triaged, a petition office: never a
    # department that may be the accused's own (here the one said to look away)
    assert sealed.needs_manual_triage and sealed.responsible_department == "339922-xfj"
    assert "检举人信息保密" in sealed.reason


def test_deployments_require_a_real_informant_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose refuses to start without XF_INFORMANT_KEY; on Kubernetes intake takes it from
    the Secret, whose placeholder is no key, so intake does not start on the demo key."""
    from tests.unit.test_deploy_manifests import config_data, find, load_compose, load_k8s

    intake_env = load_compose()["services"]["intake"]["environment"]
    assert intake_env["XF_INFORMANT_KEY"].startswith("${XF_INFORMANT_KEY:?")
    objs = load_k8s()
    deployment = find(objs, "Deployment", "intake")
    assert deployment is not None
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    [ref] = [e for e in container["env"] if e["name"] == "XF_INFORMANT_KEY"]
    assert ref["valueFrom"]["secretKeyRef"]["key"] == "XF_INFORMANT_KEY"
    placeholder = config_data(objs, "Secret", ref["valueFrom"]["secretKeyRef"]["name"])
    monkeypatch.setenv("XF_INFORMANT_KEY", placeholder["XF_INFORMANT_KEY"])
    with pytest.raises(ValidationError, match="XF_INFORMANT_KEY"):
        IntakeSettings()
