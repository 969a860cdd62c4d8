"""Vocabulary of the generated center: industry profiles, business-scope phrases (vocab.json)."""

import json
from dataclasses import dataclass
from pathlib import Path

from models.reference import Stage


@dataclass(frozen=True, slots=True)
class IndustryProfile:
    """One GB/T 4754 大类 as the generator uses it: how common, how named, how described."""

    code: str
    weight: float
    name_words: tuple[str, ...]
    sei: tuple[tuple[str, float], ...]
    scope: tuple[str, ...]


_DATA = json.loads((Path(__file__).with_name("vocab.json")).read_text(encoding="utf-8"))
GENERIC_SCOPE: tuple[str, ...] = tuple(_DATA["generic_scope"])
INDUSTRIES: tuple[IndustryProfile, ...] = tuple(
    IndustryProfile(p["code"], p["weight"], tuple(p["name_words"]),
                    tuple((c, w) for c, w in p["sei"]), tuple(p["scope"]))
    for p in _DATA["industries"]
)  # fmt: skip
DEMAND_PURPOSES: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _DATA["demand_purposes"].items()
}


@dataclass(frozen=True, slots=True)
class StageProfile:
    """Typical size of an enterprise at a stage (medians of log-normal draws)."""

    stage: Stage
    share: float
    age_years: tuple[float, float]
    employees: float
    revenue_wan: float
    margin: tuple[float, float]
    patents: float
    capital_wan: float


STAGES: tuple[StageProfile, ...] = (
    StageProfile(Stage.seed, 0.10, (0.3, 2.0), 8, 40, (-1.5, 0.2), 2, 100),
    StageProfile(Stage.startup, 0.24, (2.0, 4.5), 25, 350, (-0.5, 0.15), 6, 300),
    StageProfile(Stage.growth, 0.30, (3.0, 8.0), 80, 2500, (-0.15, 0.2), 15, 1000),
    StageProfile(Stage.expansion, 0.16, (5.0, 10.0), 200, 8000, (-0.05, 0.2), 30, 3000),
    StageProfile(Stage.mature, 0.12, (10.5, 22.0), 420, 20000, (0.02, 0.18), 45, 6000),
    StageProfile(Stage.pre_ipo, 0.08, (6.0, 15.0), 600, 40000, (0.06, 0.2), 60, 8000),
)
STAGE_INDEX: dict[Stage, int] = {p.stage: i for i, p in enumerate(STAGES)}

# Where enterprises are registered: the center's own city dominates.
HOME_CITY = "440300"
CITY_SHARES: tuple[tuple[str, float], ...] = (
    ("440300", 0.72), ("440100", 0.06), ("110000", 0.05), ("310000", 0.05), ("330100", 0.04),
    ("320500", 0.03), ("420100", 0.02), ("510100", 0.02), ("610100", 0.01),
)  # fmt: skip
# Districts weighted inside the home city (南山, 宝安, 龙岗, 福田, 龙华 … as tech clusters).
HOME_DISTRICT_WEIGHTS: dict[str, float] = {
    "440305": 30, "440306": 16, "440307": 14, "440304": 10, "440309": 10, "440311": 7,
    "440310": 6, "440303": 4, "440308": 3,
}  # fmt: skip

TRAINING_TOPICS: tuple[str, ...] = (
    "股改", "财务规范", "知识产权质押融资", "科技信贷政策解读", "北交所上市规则",
    "科创板科创属性评价", "高新技术企业认定", "股权激励设计", "专精特新申报", "内部控制与审计",
)  # fmt: skip
ROADSHOW_THEMES: tuple[str, ...] = (
    "新一代信息技术专场", "高端装备制造专场", "生物医药专场", "新能源与新材料专场",
    "专精特新企业专场", "种子期项目专场", "投贷联动专场", "数字经济专场",
)  # fmt: skip
MATCHMAKERS: tuple[str, ...] = (
    "撮合专员-张敏", "撮合专员-李航", "撮合专员-王静", "撮合专员-陈立", "撮合专员-赵雪",
)  # fmt: skip
