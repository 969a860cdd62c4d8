"""Fictional but plausible Chinese names: companies, people, phone numbers and e-mail addresses."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ingestion.normalize import normalize_company_name

# Brand syllables (字号 characters), combined into two-character brands: 332 × 331 of them, so
# every industry word can name over 100,000 companies (a million-enterprise center needs 65,000).
_BRAND_CHARS = (
    "鹏芯睿擎瀚澜启迈曜恒拓锐星辰源景嘉宸泓熠弘朗昊卓越宏智诚信达远航峰云逸泽淳沐瑞祥晟铭翰骏腾微灵"
    "锦旭光辉晨澄科速通联创盈新禾明晖极炬迅衡安邦宝贝博灿昌畅超承驰崇楚川传春纯道德鼎栋帆方飞丰枫福"
    "富港高格冠广贵海涵浩合和鸿华环汇惠佳坚建江杰捷金晋精久聚君凯康可坤蓝乐力立利良林麟凌龙隆路伦茂"
    "美蒙敏能宁诺欧平普奇齐谦乾勤青清庆秋泉仁荣融润赛森山善尚胜盛世首舒树双顺朔思松泰天同万旺威维伟"
    "文沃希熙翔欣鑫兴雄轩炫学雅亚阳耀亿益翊毅英颖永优宇羽玉裕元展正之至志众子岚峻嵘岳崧昱晔暄曦昕晓"
    "晴皓璟瑾琪瑜璐琨珑玮璞铂钧锋镭钛铖骐骁驿鲲鹤鸣凤麒翼舜尧禹钦菁蔚芃苑荟莱蓓蕾舟涛渊溪沁淼澈潇湘"
    "滨洲湾浦淮漾沛汐汉汀沣洛津澳湃钰铎锴铠闻阔阑隽霖霆霄霏靖韬韵颂飒馨骋骅魁鲸麓黎鼐默焱炜烁烨煜燊"
    "灏焕煊"
)
# Two-character combinations that spell real, well-known brands: never generated.
_RESERVED_BRANDS = frozenset((
    "华为", "腾讯", "中兴", "大疆", "阿里", "百度", "京东", "小米", "联想", "海康",
    "大华", "讯飞", "比亚", "迈瑞", "汇顶", "光峰", "欣旺", "科大", "拓邦", "信达",
    "明源", "锐捷", "瑞祥", "微创", "恒瑞", "星辰", "景嘉", "中芯", "卓越", "宏达",
    "云天", "光明", "格力", "万科", "平安", "华润", "海信", "东方", "天合", "宁德",
    "汇川", "德赛", "顺丰", "永辉", "泰康", "蓝思", "创维", "康佳", "鹏鼎", "美团",
    "金山", "紫光", "同方", "安邦", "兴业",
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
    """Draws unique company names; the normalised name (brand + industry word) is unique too.

    Each industry word walks its own seeded permutation of all brands, so a (brand, word) pair is
    never drawn twice and no draw retries against the names already used: a million names cost
    what a thousand cost each.
    """

    rng: random.Random
    _orders: dict[str, Iterator[str]] = field(default_factory=dict)

    def draw(self, city: str, industry_words: tuple[str, ...]) -> CompanyName:
        """A unique name such as 深圳市鹏芯微电子有限公司 for `city` (深圳) and the industry."""
        word, form = self.rng.choice(industry_words), self._legal_form()
        for brand in self._brands(word):
            legal = f"{city}市{brand}{word}{form}"
            if normalize_company_name(legal) == brand + word:  # a brand like 嘉兴 would be cut
                return CompanyName(legal, brand, brand + word)
        raise RuntimeError("company-name space exhausted")

    def core(self, words: tuple[str, ...]) -> tuple[str, str]:
        """A fresh (brand, brand + one of `words`) pair, e.g. ('鹏芯', '鹏芯微电子')."""
        word = self.rng.choice(words)
        brand = next(self._brands(word), None)
        if brand is None:
            raise RuntimeError("company-name space exhausted")
        return brand, brand + word

    def _brands(self, word: str) -> Iterator[str]:
        if word not in self._orders:
            self._orders[word] = _brand_order(self.rng.getrandbits(64))
        return self._orders[word]

    def _legal_form(self) -> str:
        return _LEGAL_FORMS[0][0] if self.rng.random() < _LEGAL_FORMS[0][1] else _LEGAL_FORMS[1][0]


def _brand_order(seed: int) -> Iterator[str]:
    """Every two-character brand once, in an order drawn from `seed`."""
    n = len(_BRAND_CHARS)
    order = np.random.default_rng(seed).permutation(n * n).astype(np.int32)
    for start in range(0, n * n, 4096):  # as Python ints a few at a time: 0.4 MB per word
        for pair in order[start : start + 4096].tolist():
            first, second = _BRAND_CHARS[pair // n], _BRAND_CHARS[pair % n]
            if first != second and first + second not in _RESERVED_BRANDS:
                yield first + second
