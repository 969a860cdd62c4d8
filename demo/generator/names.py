"""Fictional but plausible Chinese names: companies, people, phone numbers and e-mail addresses."""

import random
from dataclasses import dataclass, field

from ingestion.normalize import normalize_company_name

# Brand syllables: pleasant in company names, combined at random into two-character brands.
_BRAND_CHARS = (
    "鹏芯睿擎瀚澜启迈曜恒拓锐星辰源景嘉宸泓熠弘朗昊卓越宏智诚信达远航峰云逸"
    "泽淳沐瑞祥晟铭翰骏腾微灵锦旭光辉晨澄科芯速通联创盈新禾明晖极炬迅衡"
)
# Two-character combinations that spell real, well-known brands: never generated.
_RESERVED_BRANDS = frozenset((
    "华为", "腾讯", "中兴", "大疆", "阿里", "百度", "京东", "小米", "联想", "海康",
    "大华", "讯飞", "比亚", "迈瑞", "汇顶", "光峰", "欣旺", "科大", "拓邦", "信达",
    "明源", "锐捷", "瑞祥", "微创", "恒瑞", "星辰", "景嘉", "中芯", "卓越", "宏达",
    "云天", "光明",
))  # fmt: skip
_LEGAL_FORMS = (("有限公司", 0.8), ("股份有限公司", 0.2))

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈"
)
_GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥"
    "玲芬燕彬凯鹏飞宇浩然欣怡子涵思远博文雅琪俊晨"
)
_TITLES = ("董事长", "总经理", "财务总监", "董事会秘书", "投融资经理", "副总经理", "行政主管")


def person_name(rng: random.Random) -> str:
    """A fictional Chinese personal name: one surname and one or two given-name characters."""
    given_len = 1 if rng.random() < 0.3 else 2
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN_CHARS) for _ in range(given_len))


def mobile_phone(rng: random.Random) -> str:
    """A mobile number of the form 139xxxxxxxx."""
    return "139" + "".join(rng.choice("0123456789") for _ in range(8))


def contact_title(rng: random.Random, *, primary: bool) -> str:
    """A job title; the primary contact is usually a principal or the finance head."""
    return rng.choice(_TITLES[:4] if primary else _TITLES)


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A generated company name in its three forms."""

    legal_name: str
    short_name: str
    normalized_name: str


@dataclass
class CompanyNamer:
    """Draws unique company names; the normalised name (brand + industry word) is unique too."""

    rng: random.Random
    _used: set[str] = field(default_factory=set)

    def draw(self, city: str, industry_words: tuple[str, ...]) -> CompanyName:
        """A unique name such as 深圳市鹏芯微电子有限公司 for `city` (深圳) and the industry."""
        while True:
            brand, core = self.core(industry_words)
            legal = f"{city}市{core}{self._legal_form()}"
            if normalize_company_name(legal) == core:  # so normalised names are unique too
                return CompanyName(legal, brand, core)

    def core(self, words: tuple[str, ...]) -> tuple[str, str]:
        """A fresh (brand, brand + one of `words`) pair, e.g. ('鹏芯', '鹏芯微电子')."""
        for _ in range(1000):
            brand = self._brand()
            core = brand + self.rng.choice(words)
            if core not in self._used:
                self._used.add(core)
                return brand, core
        raise RuntimeError("company-name space exhausted")

    def _brand(self) -> str:
        while True:
            brand = self.rng.choice(_BRAND_CHARS) + self.rng.choice(_BRAND_CHARS)
            if brand[0] != brand[1] and brand not in _RESERVED_BRANDS:
                return brand

    def _legal_form(self) -> str:
        return _LEGAL_FORMS[0][0] if self.rng.random() < _LEGAL_FORMS[0][1] else _LEGAL_FORMS[1][0]
