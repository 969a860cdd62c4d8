"""Synthetic demands and candidates for the matching tests and benchmarks (seeded, pure numpy).

Not a model of a real center (``demo.generator`` builds that); just plausible, varied inputs of
any size, so the rankers can be exercised at 10,000 candidates × 100,000 demands.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from matching.profiles import STAGES, CandidateRow, DemandProfile

SECTORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "I65": (
        "I",
        "1",
        ("软件开发", "人工智能", "大数据服务", "云计算", "信息系统集成", "工业互联网"),
    ),
    "C39": (
        "C",
        "1",
        ("集成电路设计", "半导体器件", "通信设备", "传感器", "光电子器件", "显示器件"),
    ),
    "C35": ("C", "2", ("工业机器人", "专用设备制造", "医疗设备", "增材制造装备", "智能装备")),
    "C27": ("C", "4", ("药品生产", "生物药品", "体外诊断试剂", "细胞技术", "基因诊断")),
    "C38": ("C", "6", ("锂离子电池", "储能技术", "光伏设备", "充电桩", "输配电设备")),
    "C26": ("C", "3", ("新材料技术", "高性能纤维", "复合材料", "石墨烯", "电子专用材料")),
    "M73": ("M", "9", ("工程技术研究", "新材料研发", "检验检测服务", "科技中介服务")),
    "N77": ("N", "7", ("水污染治理", "固体废物治理", "节能管理服务", "环境保护设备")),
}
REGIONS = ("440305", "440306", "440307", "440304", "440309", "440106", "110108", "310115")
QUALIFICATIONS = ("high_tech", "tech_sme", "specialized", "little_giant")
COLLATERAL = ("none", "ip_pledge", "receivables", "real_estate", "guarantee")
AGREEMENT = (date(2023, 1, 1), date(2027, 12, 31))


def _phrases(rng: np.random.Generator, sector: str, n: int) -> str:
    words = SECTORS[sector][2]
    picked = rng.choice(len(words), size=min(n, len(words)), replace=False)
    return "、".join(words[i] for i in picked)


def _ticket(rng: np.random.Generator, kind: str) -> tuple[float, float]:
    low = (
        float(np.round(10 ** rng.uniform(1.5, 3.3), -1))
        if kind == "loan"
        else float(np.round(10 ** rng.uniform(2.0, 3.7), -1))
    )
    return low, float(np.round(low * 10 ** rng.uniform(0.5, 1.3), -1))


def _loan(rng: np.random.Generator, inst: int, pid: int, name: str) -> CandidateRow:
    lo, hi = _ticket(rng, "loan")
    sector = str(rng.choice(list(SECTORS)))
    return CandidateRow(
        institution_id=inst, product_id=pid, kind="loan", institution_name=name,
        product_name=f"科技贷{pid}", institution_kind="bank", ticket_min_wan=lo,
        ticket_max_wan=hi, agreement_start=AGREEMENT[0], agreement_end=AGREEMENT[1],
        institution_regions=("44",) if rng.random() < 0.7 else (),
        sectors=(sector,) if rng.random() < 0.3 else (),
        required_qualifications=("high_tech",) if rng.random() < 0.3 else (),
        collateral_accepted=tuple(rng.choice(COLLATERAL, 2, replace=False)) if rng.random() < 0.5 else (),
        min_years_operating=float(rng.integers(1, 4)) if rng.random() < 0.4 else None,
        min_revenue_wan=float(rng.choice([300, 1000, 3000])) if rng.random() < 0.3 else None,
        text=f"科技信贷 {_phrases(rng, sector, 3)}",
        activity=float(rng.random()), responsiveness=float(rng.random()),
    )  # fmt: skip


def _mandate(rng: np.random.Generator, inst: int, pid: int, name: str) -> CandidateRow:
    lo, hi = _ticket(rng, "equity")
    sectors = tuple(rng.choice(list(SECTORS), int(rng.integers(1, 4)), replace=False))
    first = int(rng.integers(0, 5))
    return CandidateRow(
        institution_id=inst, product_id=pid, kind="equity", institution_name=name,
        product_name=f"成长基金{pid}", institution_kind="vc", ticket_min_wan=lo,
        ticket_max_wan=hi, agreement_start=AGREEMENT[0], agreement_end=AGREEMENT[1],
        remaining_capacity_wan=float(hi * rng.uniform(0.5, 20)) if rng.random() < 0.6 else None,
        institution_regions=(str(rng.choice(["4403", "44", "11", "31"])),) if rng.random() < 0.3 else (),
        stages=tuple(STAGES[first : first + int(rng.integers(1, 3))]),
        sectors=sectors if rng.random() < 0.8 else (),
        sei_categories=tuple(SECTORS[s][1] for s in sectors) if rng.random() < 0.5 else (),
        text="；".join(_phrases(rng, s, 3) for s in sectors),
        activity=float(rng.random()), responsiveness=float(rng.random()),
    )  # fmt: skip


def synthetic_candidates(n: int, seed: int = 0, per_institution: int = 4) -> list[CandidateRow]:
    """``n`` candidates, about half loan products and half mandates, ``per_institution`` each."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(n):
        inst = pid // per_institution
        bank = inst % 2 == 0
        name = f"{'科创银行' if bank else '创新投资'}{inst:05d}"
        rows.append((_loan if bank else _mandate)(rng, inst + 1, pid + 1, name))
    return rows


def _demand(rng: np.random.Generator, i: int) -> DemandProfile:
    sector = str(rng.choice(list(SECTORS)))
    _, sei, _ = SECTORS[sector]
    low = float(np.round(10 ** rng.uniform(1.7, 3.8), -1))
    quals = frozenset(q for q in QUALIFICATIONS if rng.random() < 0.35)
    return DemandProfile(
        demand_id=i + 1, enterprise_id=i + 1,
        financing_type=str(rng.choice(["loan", "equity", "mixed"], p=[0.55, 0.3, 0.15])),
        amount_min_wan=low, amount_max_wan=float(np.round(low * rng.uniform(1.0, 2.5), -1)),
        stage=str(rng.choice(STAGES)), industry_code=sector, sei_category=sei,
        region_code=str(rng.choice(REGIONS)), qualifications=quals,
        collateral_offered=frozenset(rng.choice(COLLATERAL, 1)) if rng.random() < 0.6 else frozenset(),
        years_operating=float(rng.uniform(0.5, 15)), revenue_wan=float(10 ** rng.uniform(1, 4.5)),
        text=f"一般经营项目是：{_phrases(rng, sector, 4)}；技术开发、技术咨询",
        relationships={int(rng.integers(1, 50)): 1.0} if rng.random() < 0.1 else {},
    )  # fmt: skip


def synthetic_demands(n: int, seed: int = 0) -> list[DemandProfile]:
    """``n`` demands of enterprises across eight sectors and eight districts."""
    rng = np.random.default_rng(seed + 1_000_003)
    return [_demand(rng, i) for i in range(n)]
