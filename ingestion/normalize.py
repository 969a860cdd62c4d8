"""Text clean-up for cells and the company-name key that de-duplication compares.

`normalize_company_name` turns the many ways a register, a park or an enterprise writes one
name into one key: '深圳市华芯科技有限公司', '华芯科技（深圳）有限公司', '深圳 华芯科技股份有限公司' and
'广东省深圳市华芯科技有限公司' all become '华芯科技'. `brand_of` splits off the trailing business
descriptor ('科技', '信息技术' …) to leave the 字号 ('华芯'), which is what blocking uses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from models.reference import CITIES, DISTRICTS, PROVINCES, region_code_from_name

__all__ = [
    "brand_of",
    "canonical_descriptor",
    "clean_cell",
    "half_width",
    "normalize_company_name",
    "region_key",
    "region_of_name",
    "tidy_legal_name",
]

# Prefecture-level cities that rosters most often put in front of a name, beyond those the
# reference data holds districts for. Names only; codes come from `models.reference`.


def _words(text: str) -> list[str]:
    return text.split()


_MORE_CITIES = _words(
    "天津 重庆 南京 无锡 常州 南通 扬州 镇江 泰州 徐州 盐城 淮安 连云港 宿迁 宁波 温州 嘉兴 湖州 "
    "绍兴 金华 台州 衢州 舟山 丽水 合肥 芜湖 福州 厦门 泉州 漳州 莆田 南昌 赣州 济南 青岛 烟台 "
    "潍坊 威海 淄博 临沂 郑州 洛阳 长沙 株洲 湘潭 东莞 佛山 珠海 中山 惠州 江门 汕头 湛江 肇庆 "
    "南宁 柳州 桂林 海口 三亚 贵阳 昆明 拉萨 兰州 西宁 银川 乌鲁木齐 石家庄 唐山 保定 廊坊 太原 "
    "呼和浩特 包头 沈阳 大连 长春 哈尔滨 宜昌 襄阳 绵阳 德阳 宝鸡 咸阳"
)
_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "合伙企业",
    "有限合伙",
    "普通合伙",
    "公司",
    "coltd",
    "ltd",
    "inc",
    "limited",
)
# Trailing words that describe the business rather than name it; longest first.
_DESCRIPTORS = sorted(
    set(
        _words(
            "科技 技术 信息技术 信息科技 电子科技 网络科技 智能科技 生物科技 生物技术 医疗科技 软件 "
            "电子 网络 信息 智能 数据 通信 通讯 半导体 微电子 光电 光电子 新材料 材料 新能源 能源 "
            "生物 医药 生物医药 医疗 医疗器械 器械 环保 节能 环境 机器人 自动化 装备 智能装备 设备 "
            "精密 仪器 工业 制造 实业 发展 控股 投资 咨询 服务 贸易 集团 创新 数字 云 互联网 "
            "芯片 集成电路 系统 工程 化工 汽车 航空 航天 传感 检测 激光 光学 照明 储能 电池 "
            "新技术 高新技术 高科技"
        )
    ),
    key=len,
    reverse=True,
)
_DESCRIPTOR_SET = frozenset(_DESCRIPTORS)


def _lengths_by(position: int) -> dict[str, tuple[int, ...]]:
    """First (0) or last (-1) character → the lengths of the descriptors with it, longest first.

    At most one descriptor of a given length can end (or start) a name, so a set look-up per
    length finds the longest — and a name ending in no descriptor's last character needs none.
    """
    lengths: dict[str, set[int]] = {}
    for word in _DESCRIPTORS:
        lengths.setdefault(word[position], set()).add(len(word))
    return {ch: tuple(sorted(sizes, reverse=True)) for ch, sizes in lengths.items()}


_DESCRIPTOR_ENDS = _lengths_by(-1)
_DESCRIPTOR_STARTS = _lengths_by(0)
# Descriptors that say the same thing, and filler that adds nothing to a name.
_SYNONYMS = {"技术": "科技", "高科技": "科技", "高新技术": "科技", "新技术": "科技", "通讯": "通信"}
_FILLER = frozenset({"发展", "实业", "有限", "股份"})

_SPACES = re.compile(r"[\s\u3000\u200b\u200c\u200d\u2060\ufeff]+")
_BRACKETED = re.compile(r"[(\[{]([^()\[\]{}]*)[)\]}]")
_PUNCT = re.compile(r"[\s·.,，、。&＆'\"“”‘’\-_/\\:;!?*#@+~`|<>《》【】\[\](){}]+")


def half_width(text: str) -> str:
    """Full-width letters, digits, punctuation and spaces to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def clean_cell(value: object) -> str:
    """A cell as text: NFKC, no zero-width characters, inner whitespace collapsed, stripped."""
    if value is None:
        return ""
    text = half_width(str(value))
    if _no_spaces(text):
        return text
    return _SPACES.sub(" ", text).strip()


def _no_spaces(text: str) -> bool:
    """True when `_SPACES` cannot match: no ' ', and nothing else unprintable (every other
    whitespace and zero-width character is unprintable) — a C-speed test for most cells."""
    return " " not in text and text.isprintable()


def _without_spaces(text: str) -> str:
    return text if _no_spaces(text) else _SPACES.sub("", text)


@lru_cache(maxsize=1)
def _region_words() -> tuple[str, ...]:
    names: set[str] = {"中国", "中华人民共和国"}
    for full in (*PROVINCES.values(), *CITIES.values(), *DISTRICTS.values()):
        names.add(full)
        for suffix in (
            "特别行政区",
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "自治区",
            "省",
            "市",
        ):
            if full.endswith(suffix) and len(full) - len(suffix) >= 2:
                names.add(full.removesuffix(suffix))
                break
    for city in _MORE_CITIES:
        names.update({city, city + "市"})
    names.update(n.removesuffix("区") + "新区" for n in list(names) if n.endswith("区"))
    names.update({"高新区", "经开区", "自贸区", "前海", "南沙", "滨海新区"})
    return tuple(sorted(names, key=len, reverse=True))


def _strip_bracketed(text: str) -> str:
    """Drop bracketed regions and legal forms; keep other bracketed words without brackets."""

    def repl(match: re.Match[str]) -> str:
        inner = match.group(1)
        if not inner or inner in _region_set() or inner in _LEGAL_FORMS:
            return ""
        return inner

    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub(repl, text)
    return text


_RegionIndex = tuple[frozenset[str], dict[str, tuple[int, ...]]]
_REGIONS: list[_RegionIndex] = []  # built on first use: the words, and lengths by first character


def _region_index() -> _RegionIndex:
    if not _REGIONS:
        lengths: dict[str, set[int]] = {}
        for word in _region_words():
            lengths.setdefault(word[0], set()).add(len(word))
        by_first = {ch: tuple(sorted(sizes, reverse=True)) for ch, sizes in lengths.items()}
        _REGIONS.append((frozenset(_region_words()), by_first))
    return _REGIONS[0]


def _region_set() -> frozenset[str]:
    return _region_index()[0]


def _region_at(text: str, start: int) -> int:
    """Length of the longest region word at `text[start:]`, 0 if none starts there.

    A set look-up per candidate length (at most one word of a length can match), which is what
    an alternation of the words, longest first, matches — without scanning thousands of them.
    """
    words, by_first = _REGIONS[0] if _REGIONS else _region_index()
    sizes = by_first.get(text[start : start + 1])
    if sizes:
        rest = len(text) - start
        for size in sizes:
            if size <= rest and text[start : start + size] in words:
                return size
    return 0


@lru_cache(maxsize=4096)
def _region_code(prefix: str) -> str | None:
    return region_code_from_name(prefix)


@lru_cache(maxsize=4096)
def _leading_region(name: str) -> str:
    text = _without_spaces(half_width(name))
    end = 0
    while (size := _region_at(text, end)) and len(text) - (end + size) >= 2:
        end += size
    return text[:end]


class _Memo(dict[Any, Any]):
    """A bounded memo of a one-argument function, called as `memo[key]`: a hit is one C dict
    look-up, a miss computes (`__missing__`). Emptied when full, as the converters' memos are."""

    def __init__(self, compute: Callable[[Any], Any], limit: int) -> None:
        super().__init__()
        self.compute, self.limit = compute, limit

    def __missing__(self, key: Any) -> Any:
        value = self.compute(key)
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def _region_of_name(name: str) -> str | None:
    """行政区划代码 of the region a company name starts with ('深圳市南山区…' → '440305')."""
    prefix = _leading_region(name)
    return _region_code(prefix) if prefix else None


def _region_key(name: str) -> str | None:
    """Where a name says it is registered: its 行政区划代码, else the place name ('郑州')."""
    prefix = _leading_region(name)
    if not prefix or prefix in ("中国", "中华人民共和国"):
        return None
    return _region_code(prefix) or prefix.removesuffix("市").removesuffix("省")


def _strip_region_prefix(text: str) -> str:
    while (size := _region_at(text, 0)) and len(text) - size >= 2:
        text = text[size:]
    return text


#: Last character → the legal forms ending with it, in `_LEGAL_FORMS` order (which decides).
_FORMS_BY_LAST: dict[str, tuple[str, ...]] = {
    last: tuple(f for f in _LEGAL_FORMS if f[-1] == last) for last in {f[-1] for f in _LEGAL_FORMS}
}


def _strip_legal_form(text: str) -> str:
    while forms := _FORMS_BY_LAST.get(text[-1:]):
        for form in forms:
            if text.endswith(form) and len(text) - len(form) >= 2:
                text = text[: -len(form)]
                break
        else:
            return text
    return text


def _normalize_company_name(name: str) -> str:
    """The comparison key of a company name.

    Full-width to half-width, lower-case Latin letters, no spaces; bracketed regions ('（深圳）')
    and legal forms removed, other brackets dropped but their words kept; region prefixes
    ('广东省', '深圳市', '南山区') and legal-form suffixes ('有限公司', '股份有限公司' …) stripped;
    punctuation removed. Never shorter than two characters when the input had two.
    """
    text = _without_spaces(half_width(name).lower())
    if "(" in text or "[" in text or "{" in text:
        text = _strip_bracketed(text)
    if not text.isalnum():  # letters, digits and CJK only: `_PUNCT` cannot match
        text = _PUNCT.sub("", text)
    text = _strip_legal_form(text)
    text = _strip_region_prefix(text)
    return _strip_legal_form(text)


def _brand_of(normalized: str) -> tuple[str, str]:
    """Split a normalised name into (字号, descriptor): '华芯信息技术' → ('华芯', '信息技术')."""
    brand = normalized
    while True:
        size = len(brand)
        for length in _DESCRIPTOR_ENDS.get(brand[-1:], ()):  # the longest descriptor ending it
            if size - length >= 2 and brand[size - length :] in _DESCRIPTOR_SET:
                brand = brand[: size - length]
                break
        else:
            return brand, normalized[len(brand) :]


_NORMALIZED = _Memo(_normalize_company_name, 8192)
_BRANDS = _Memo(_brand_of, 8192)
_REGION_KEYS = _Memo(_region_key, 4096)
_REGIONS_OF_NAMES = _Memo(_region_of_name, 4096)
#: `_normalize_company_name`, memoised.
normalize_company_name: Callable[[str], str] = _NORMALIZED.__getitem__
#: `_brand_of`, memoised.
brand_of: Callable[[str], tuple[str, str]] = _BRANDS.__getitem__
#: `_region_key`, memoised.
region_key: Callable[[str], str | None] = _REGION_KEYS.__getitem__
#: `_region_of_name`, memoised.
region_of_name: Callable[[str], str | None] = _REGIONS_OF_NAMES.__getitem__


@lru_cache(maxsize=4096)
def canonical_descriptor(descriptor: str) -> str:
    """The descriptor with synonyms unified and filler dropped ('技术发展' → '科技')."""
    words: list[str] = []
    rest = descriptor
    while rest:
        for length in _DESCRIPTOR_STARTS.get(rest[0], ()):  # the longest one starting `rest`
            if length <= len(rest) and rest[:length] in _DESCRIPTOR_SET:
                word = rest[:length]
                break
        else:
            word = rest[0]
        rest = rest[len(word) :]
        word = _SYNONYMS.get(word, word)
        if word not in _FILLER:
            words.append(word)
    return "".join(words)


def tidy_legal_name(name: str) -> str:
    """The name as stored: spaces removed, brackets in their full-width official form."""
    text = _without_spaces(half_width(name))
    return text.replace("(", "（").replace(")", "）")
