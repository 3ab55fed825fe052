"""Realistic synthetic petitions for benchmarks (not for tests' expectations)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from xinfang_shared.events import PetitionerInfo, PetitionReceived

PLACES = [
    "清河县清河镇东岗村",
    "清河县清河镇西岗村",
    "清河县柳塘乡柳树湾村",
    "清河县柳塘乡荷花塘村",
    "清河县石门镇石门村",
    "清河县石门镇青山村",
    "临江区滨江街道滨江社区",
    "临江区滨江街道江岸社区",
    "临江区望江街道望江社区",
    "临江区望江街道湖塘村",
]
MATTERS = [
    "家里承包地{n}亩被征收，青苗补偿费和安置补助费至今没有发放到位，多次找村委会都说钱还没拨下来",
    "在工地干了{n}个月木工活，包工头拖欠工资{n}万元不给，春节前承诺支付至今没兑现",
    "小区旁边工地夜间施工，每晚十点以后还在打桩，噪音扰民严重，老人孩子根本睡不着",
    "附近化工厂偷排废水，河水发黑发臭，鱼都死了，村民用水受到影响",
    "我的借款纠纷判决生效已经{n}年，申请执行后被执行人一直拒不履行，执行法官也不积极",
    "举报村支书在低保评定中优亲厚友，把不符合条件的亲戚纳入低保，还虚报冒领补贴",
    "村务长期不公开，村集体收益去向不明，村委会对村民的询问置之不理",
    "物业公司乱收物业费，电梯坏了{n}个月没人修，业主委员会多次交涉无果",
    "原厂改制时买断工龄的补偿标准过低，{n}名老职工的安置问题一直没有解决",
    "单位给我断缴社保{n}个月，养老保险缴费年限受影响，请求督促补缴",
    "孩子所在学校每学期额外收取补课费和资料费{n}百元，请求查处乱收费",
    "母亲在医院做手术后出现严重并发症，怀疑是误诊和医疗事故，医院拒不承认",
    "房屋征收评估价明显偏低，安置房迟迟不能交付，我们已在外租房{n}年",
    "我家的山林被邻村的人占用砍伐，林权证上写得清清楚楚",
    "父亲去世后殡仪馆收取的火化费和骨灰盒费用远高于公示标准",
    "建议在学校门口增设红绿灯和减速带，保障孩子们上下学安全",
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "建国秀英志强桂兰海燕明华国庆晓东丽娟春梅德胜玉珍永红小军文斌"
OFFICES = ["339900", "339902", "339922", "339922101", "339922102", "339902001"]


def make(rng: random.Random, *, person_pool: int = 50_000) -> PetitionReceived:
    pid = rng.randrange(person_pool)
    name = (
        SURNAMES[pid % len(SURNAMES)] + GIVEN[(pid * 7) % len(GIVEN) : (pid * 7) % len(GIVEN) + 2]
    )
    place = rng.choice(PLACES)
    text = (
        f"本人系{place}村民，"
        + rng.choice(MATTERS).format(n=rng.randint(2, 9))
        + "，请求有关部门依法处理。"
    )
    now = datetime.now(UTC)
    return PetitionReceived(
        case_id=str(uuid.uuid4()),
        case_number=f"339900-2026-{rng.randrange(10**6):06d}",
        channel=rng.choice(["letter", "visit", "phone", "online"]),
        received_at=now,
        receiving_office_code=rng.choice(OFFICES),
        receiving_office_name="x",
        anonymous=False,
        petitioners=[PetitionerInfo(name=name, id_hash=f"{pid:064x}", phone=f"139{pid:08d}")],
        persons=1,
        matter_address=place if rng.random() < 0.5 else None,
        content=text,
    )
