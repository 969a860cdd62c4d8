"""The versioned synonym table of free-text industry words (`models/data/industry_synonyms.csv`).

Districts write 人工智能, 医疗器械 or 光电子器件制造 where the standard has a 大类 name. The table
maps such a word to a GB/T 4754-2017 大类 (two-digit code, its name repeated for the reader) and
a 战略性新兴产业（2018）一级类别 ('1'..'9', empty when the word is in none). It is data: adding a
word is a one-line change to the CSV, and its first line carries the version the import records.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.reference import DIVISIONS, STRATEGIC_EMERGING_INDUSTRIES

SYNONYMS_PATH = Path(__file__).resolve().parent / "data" / "industry_synonyms.csv"
_VERSION = re.compile(r"version\s+(\S+)")


@dataclass(frozen=True, slots=True)
class IndustryTerm:
    """What one word means: a stored industry code ('C39', or None) and an SEI category."""

    code: str | None
    sei: str | None


@dataclass(frozen=True, slots=True)
class IndustrySynonyms:
    """The table: its version and the terms by their folded form (see `fold_term`)."""

    version: str
    terms: dict[str, IndustryTerm]


def fold_term(text: str) -> str:
    """The form a term is compared in: lower case, no spaces."""
    return "".join(text.split()).lower()


@lru_cache(maxsize=4)
def load_industry_synonyms(path: Path = SYNONYMS_PATH) -> IndustrySynonyms:
    """Read and check the table (every code a real 大类, every category one of the nine)."""
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
        found = _VERSION.search(first)
        if not first.startswith("#") or found is None:
            raise ValueError(f"{path.name}: the first line must name the table's version")
        terms: dict[str, IndustryTerm] = {}
        for number, row in enumerate(csv.DictReader(fh), start=3):
            terms[fold_term(row["term"])] = _term(row, f"{path.name}:{number}")
    return IndustrySynonyms(found.group(1), terms)


def _term(row: dict[str, str], where: str) -> IndustryTerm:
    division, sei = row["division"].strip(), row["sei"].strip()
    if division and division not in DIVISIONS:
        raise ValueError(f"{where}: {division} is not a GB/T 4754-2017 大类")
    if division and DIVISIONS[division].name != row["division_name"].strip():
        raise ValueError(f"{where}: {division} is {DIVISIONS[division].name}")
    if sei and sei not in STRATEGIC_EMERGING_INDUSTRIES:
        raise ValueError(f"{where}: {sei} is not a 战略性新兴产业 category")
    code = DIVISIONS[division].section + division if division else None
    return IndustryTerm(code, sei or None)
