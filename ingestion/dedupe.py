"""Enterprise identity: exact 统一社会信用代码, then normalised names compared under blocking.

Rules, in order:

1. a row's USCC that a record already carries → that record;
2. the exact legal name of a record (unless both carry different USCCs) → that record;
3. otherwise the records whose 字号 (`brand_of` the normalised name) equals the row's are the
   only candidates (blocking), and a candidate carrying a different USCC is never one:
   * same normalised name, or same 字号 and descriptors equal once synonyms and filler are
     unified ('科技' = '技术', '发展' dropped) → the same enterprise (a confident merge);
   * same 字号 but a different descriptor ('华芯科技' vs '华芯电子') → ambiguous: a new record
     and a `DuplicateCandidate` for a person to decide;
   * a different 字号 → different enterprises, however close the strings ('华芯' vs '华信').

The review queue (`pending_candidates`, `merge_candidate`, `reject_candidate`) is in
`services.imports.duplicates`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from ingestion.normalize import brand_of, canonical_descriptor, normalize_company_name, region_key

Verdict = Literal["same", "review", "different"]


def regions_conflict(a: str | None, b: str | None) -> bool:
    """True when two names' leading regions are different places ('深圳…' vs '北京…')."""
    if not a or not b:
        return False
    if not (a.isdigit() and b.isdigit()):
        return a != b
    if a[:2] != b[:2]:
        return True
    return a[2:4] != "00" and b[2:4] != "00" and a[:4] != b[:4]


def compare_names(
    a: str, b: str, region_a: str | None = None, region_b: str | None = None
) -> tuple[Verdict, float]:
    """Verdict and rapidfuzz similarity (0–100) for two *normalised* company names.

    `region_a`/`region_b` are the 行政区划代码 the raw names started with, if any: the same name
    registered in two different cities (深圳蜂巢互联 / 北京蜂巢互联, 郑州银行 / 哈尔滨银行) is
    never a confident match, only a case for review.
    """
    score = float(fuzz.ratio(a, b))
    if regions_conflict(region_a, region_b):
        brand_a, brand_b = brand_of(a)[0], brand_of(b)[0]
        return ("review" if brand_a == brand_b else "different"), score
    if a == b:
        return "same", 100.0
    brand_a, rest_a = brand_of(a)
    brand_b, rest_b = brand_of(b)
    if brand_a != brand_b:
        return "different", score
    if canonical_descriptor(rest_a) == canonical_descriptor(rest_b):
        return "same", max(score, 95.0)
    return "review", score


def same_enterprise(name_a: str, name_b: str) -> Verdict:
    """The verdict for two raw company names (normalises both first)."""
    key_a, key_b = normalize_company_name(name_a), normalize_company_name(name_b)
    return compare_names(key_a, key_b, region_key(name_a), region_key(name_b))[0]


@dataclass(slots=True)
class Resolution:
    """Where a row's enterprise is: an existing (or pending) id and how it was found."""

    entity_id: int | None
    how: Literal["uscc", "name", "alias", "fuzzy", "brand", "new"]
    score: float = 100.0
    review: Sequence[tuple[int, float]] = ()  # a tuple default: no factory call per row


class EnterpriseIndex:
    """Identity keys of enterprises: USCC, legal name and 字号 blocks → id.

    An import keeps it per chunk (`prepare`): only the saved enterprises the chunk's rows can
    resolve to — by USCC, or by a normalised name in the row's 字号 block (which holds every
    exact legal name too) — plus the records the chunk creates. So memory does not grow with
    the number of enterprises. `load` reads every enterprise instead.
    """

    def __init__(self) -> None:
        self.clear()
        self.has_aliases: bool | None = None  # whether enterprise_alias has rows (per batch)

    def clear(self) -> None:
        """Forget every record."""
        self.by_uscc: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.by_brand: dict[str, list[int]] = defaultdict(list)
        self.norm: dict[int, str] = {}
        self.uscc: dict[int, str | None] = {}
        self.name: dict[int, str] = {}
        self.region: dict[int, str | None] = {}
        self.aliases: set[str] = set()  # names only an alias (曾用名) holds

    def add_aliases(self, aliases: dict[str, int]) -> None:
        """Names merged records were known by → the kept record (a record's own name wins)."""
        for name, ent_id in aliases.items():
            held = ent_id in self.name and self.by_name.setdefault(name, ent_id) == ent_id
            if held and self.name[ent_id] != name:
                self.aliases.add(name)

    def add(
        self,
        ent_id: int,
        uscc: str | None,
        legal_name: str,
        norm: str | None = None,
        *,
        block: bool = True,
    ) -> None:
        """Register an enterprise under all its keys (`norm`: its stored normalised name).

        `block=False` leaves it out of the 字号 blocks (`prepare`: no row of the chunk asks for
        its block, or the block query would have found it).
        """
        norm = norm or normalize_company_name(legal_name)
        if uscc:
            self.by_uscc[uscc] = ent_id
        self.by_name.setdefault(legal_name, ent_id)
        if block:
            self.by_brand[brand_of(norm)[0]].append(ent_id)
        self.norm[ent_id], self.uscc[ent_id], self.name[ent_id] = norm, uscc, legal_name

    def region_of(self, ent_id: int) -> str | None:
        """Where the record's name says it is registered (`region_key`), worked out on demand."""
        if ent_id not in self.region:
            self.region[ent_id] = region_key(self.name[ent_id])
        return self.region[ent_id]

    def set_uscc(self, ent_id: int, uscc: str) -> None:
        """Record a USCC learnt by merging a row into an enterprise that lacked one."""
        self.uscc[ent_id] = uscc
        self.by_uscc[uscc] = ent_id

    def resolve(self, uscc: str | None, legal_name: str | None) -> Resolution:
        """Find the enterprise a row names, following the module's rules."""
        if uscc and uscc in self.by_uscc:
            return Resolution(self.by_uscc[uscc], "uscc")
        if legal_name and legal_name in self.by_name:
            found = self.by_name[legal_name]
            if not (uscc and self.uscc.get(found) and self.uscc[found] != uscc):
                return Resolution(found, "alias" if legal_name in self.aliases else "name")
        if not legal_name:
            return Resolution(None, "new")
        return self._by_similar_name(uscc, legal_name)

    def _by_similar_name(self, uscc: str | None, legal_name: str) -> Resolution:
        norm = normalize_company_name(legal_name)
        candidates = self.by_brand.get(brand_of(norm)[0])
        if not candidates:
            return Resolution(None, "new")
        region = region_key(legal_name)
        best: tuple[float, int] | None = None
        review: list[tuple[int, float]] = []
        for cand in candidates:
            if uscc and self.uscc.get(cand) and self.uscc[cand] != uscc:
                continue
            verdict, score = compare_names(norm, self.norm[cand], region, self.region_of(cand))
            if verdict == "same" and (best is None or score > best[0]):
                best = (score, cand)
            elif verdict == "review":
                review.append((cand, score))
        if best is not None:
            return Resolution(best[1], "fuzzy", best[0])
        review.sort(key=lambda pair: -pair[1])
        return Resolution(None, "new", review=review[:3])
