"""Brand and short names: finding the enterprise a row names only by '和雷实业' or '场地汇'.

A district sheet often names a firm by its brand or short name instead of its legal name. Such
a name (`is_brand_like`: no legal form at its end) resolves to the enterprise whose short name,
or whose core name (the legal name without region and legal form, `normalize_company_name`),
contains it — among the enterprises of the row's region only (its 区域/地址 column, or the
USCC's registration code, as evidence: `regions_conflict` decides, a city against its province
is no conflict; a municipality's districts and former counties are one city).

`BrandIndex` is built once per import from every enterprise's (id, core name, short name,
region): per province, the names and, for each two-character piece, the names that hold it. A
look-up checks only the names holding the brand's rarest piece, not every name of the province.

A brand that is a 字号 and a trade ('元生科技') also finds the names that start with the 字号 and
end with the trade ('元生创新科技'), so a look-alike that merely contains the brand ('雷铂犀牛科技'
for '犀牛科技') is never the only candidate. Of the enterprises found, one whose core or short
name *is* the brand wins; otherwise a single one whose name starts with the brand is the
answer; several, or one holding the brand only in the middle of its name ('龙大肉食品' for
'青岛食品'), are left to a person (`BrandHit.candidates`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingestion.normalize import brand_of, half_width, normalize_company_name

__all__ = ["BrandHit", "BrandIndex", "brand_key", "is_brand_like"]

#: Endings of a legal (registered) name: a name ending so is not a brand.
_LEGAL_ENDINGS = (
    "公司",
    "企业",
    "合伙)",
    "有限合伙",
    "厂",
    "研究院",
    "研究所",
    "事务所",
    "合作社",
    "中心",
)
#: Words a short name keeps from the legal form ('氟聚股份'), not part of the core name.
_SHORT_FORMS = ("股份",)
#: Shortest brand looked up: one character is inside too many names to be evidence.
MIN_BRAND = 2


def is_brand_like(name: str) -> bool:
    """True for a name without a legal form at its end ('和雷实业', not '…有限公司')."""
    text = half_width(name).strip()
    return bool(text) and not text.endswith(_LEGAL_ENDINGS)


def brand_key(name: str) -> str:
    """The text a brand is looked up by: normalised like a core name, '股份' dropped."""
    key = normalize_company_name(name)
    for form in _SHORT_FORMS:
        if key.endswith(form) and len(key) - len(form) >= MIN_BRAND:
            key = key[: -len(form)]
    return key


@dataclass(slots=True)
class BrandHit:
    """What a brand look-up found: the one enterprise, or the candidates a person chooses from."""

    entity_id: int | None = None
    candidates: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Province:
    """The names of one province's enterprises and, per two-character piece, the names with it."""

    names: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # the enterprise of each name
    grams: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, owner: int) -> None:
        slot = len(self.names)
        self.names.append(name)
        self.owners.append(owner)
        grams = self.grams
        for gram in {name[i : i + 2] for i in range(len(name) - 1)}:
            grams[gram].append(slot)

    def holding(self, key: str) -> list[int]:
        """Positions of the names that may contain `key`: those with its rarest bigram."""
        grams = self.grams  # `.get`: a look-up adds no empty list
        lists = [grams.get(key[i : i + 2]) for i in range(len(key) - 1)]
        if not lists or None in lists:
            return []
        return min(lists, key=len)  # type: ignore[arg-type]


class BrandIndex:
    """Core and short names of enterprises per province, searched by substring."""

    def __init__(self) -> None:
        self._provinces: dict[str, _Province] = {}
        self.region: dict[int, str] = {}
        self.names: dict[int, tuple[str, str]] = {}  # id → (core name, short name key)
        self.legal_name: dict[int, str] = {}

    def add(
        self, ent_id: int, legal_name: str, core: str, short_name: str | None, region: str | None
    ) -> None:
        """Index an enterprise; one without a region code is never found by brand."""
        if not region or not region[:2].isdigit():
            return
        short = brand_key(short_name) if short_name else ""
        province = self._provinces.setdefault(region[:2], _Province())
        self.region[ent_id], self.names[ent_id] = region, (core, short)
        self.legal_name[ent_id] = legal_name
        for name in {core, short} - {""}:
            province.add(name, ent_id)

    def extend(self, rows: Iterable[tuple[int, str, str, str | None, str | None]]) -> None:
        """`add` each (id, legal name, core name, short name, region)."""
        for row in rows:
            self.add(*row)

    def elsewhere(self, ent_id: int, region: str) -> bool:
        """True when the enterprise is known to be in another city than `region`."""
        return ent_id in self.region and _cities_differ(self.region[ent_id], region)

    def lookup(self, brand: str, region: str) -> BrandHit:
        """The enterprise of `region` that the brand names (see the module's rules)."""
        key = brand_key(brand)
        province = self._provinces.get(region[:2])
        if len(key) < MIN_BRAND or province is None:
            return BrandHit()
        found = _owners(province, key)  # enterprise → whether a name starts with the brand
        name, trade = brand_of(key)
        if trade and len(name) >= MIN_BRAND:  # '元生科技' also names 元生创新科技, not 元生生物
            found |= _owners(province, name, trade)
        near = {owner: start for owner, start in found.items() if not self.elsewhere(owner, region)}
        exact = [owner for owner in near if key in self.names[owner]]
        if len(exact) == 1:
            return BrandHit(exact[0])
        if len(near) == 1 and all(near.values()):
            return BrandHit(next(iter(near)))
        return BrandHit(candidates=sorted(near))


#: Provinces that are cities: their districts and former counties (1101…, 1102…) are one city.
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


def _city(code: str) -> str | None:
    """The city part of a 行政区划代码 (None for a province-level code: any of its cities)."""
    if code[:2] in _MUNICIPALITIES:
        return code[:2]
    return None if code[2:4] == "00" else code[:4]


def _cities_differ(a: str, b: str) -> bool:
    if a[:2] != b[:2]:
        return True
    city_a, city_b = _city(a), _city(b)
    return city_a is not None and city_b is not None and city_a != city_b


#: How a place name a core name kept ('孝感市', '宁国市' — not in the reference data) ends.
_PLACE_ENDINGS = ("省", "市", "县", "区", "州", "盟", "旗")


def _is_place(prefix: str) -> bool:
    """True for what a name may carry before its 字号 and still start with it: a place."""
    return 2 <= len(prefix) <= 8 and prefix.endswith(_PLACE_ENDINGS)


def _owners(province: _Province, key: str, trade: str = "") -> dict[int, bool]:
    """Enterprise → whether one of its names starts with `key` (after a place name: `_is_place`),
    for every name of the province that contains `key` — with `trade`, only the names that
    start with `key` and end with `trade`."""
    names, owners = province.names, province.owners
    found: dict[int, bool] = {}
    for slot in province.holding(key):
        name = names[slot]
        at = name.find(key)
        if at < 0:
            continue
        start = at == 0 or _is_place(name[:at])
        if not trade or (start and name.endswith(trade)):
            owner = owners[slot]
            found[owner] = found.get(owner, False) or start
    return found
