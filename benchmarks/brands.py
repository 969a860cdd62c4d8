"""Rows named by a brand or short name: do they land on the enterprise already stored?

The labelled set comes from real registry records, ../shared/data/cn_registry/registry_sample.csv
(read in place, never copied): its 名称 column is the brand, its 公司名称 and 统一信用代码 the
enterprise it names. Records with a valid USCC, a brand other than the legal name and a unique
USCC and legal name are split by a hash of the USCC into a tuning set and an independent set
(300 brands each, in hash order). Every record of the file with a valid USCC is first imported
as an enterprise by legal name, USCC and address (no short name): the distractors. Then each
set is imported as a demand sheet naming the firm by brand only, with its 所在区域 (the city of
the address, else of the USCC's registration code) as the region evidence, and each row scored:

* right — the demand's enterprise is the labelled one;
* wrong merge — it is another enterprise already stored;
* review — the row is held for review (several candidates), or created with a duplicate pair;
* new — a new enterprise was created for the brand.

Each set is scored a second time with its labelled enterprises deleted first ("absent"): a
brand of a firm not in the database must not land on a look-alike, so every merge is wrong.

"Inside" is the subset whose brand is literally inside the legal name (杭州和雷实业股份有限公司 ←
和雷实业); the target is ≥ 90 % right there and no wrong merge in the 300.

    .venv/bin/python benchmarks/brands.py            # both sets, figures as docs/benchmarks.md
"""

from __future__ import annotations

import csv
import hashlib
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, col, select  # noqa: E402

from ingestion.normalize import clean_cell  # noqa: E402
from ingestion.uscc import is_valid_uscc  # noqa: E402
from ingestion.values import parse_region  # noqa: E402
from models import DuplicateCandidate, Enterprise, FinancingDemand, ImportRow  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.migrate import upgrade_to_head  # noqa: E402
from models.reference import ImportOutcome  # noqa: E402
from services.imports.service import import_file  # noqa: E402

REGISTRY = ROOT.parent / "shared" / "data" / "cn_registry" / "registry_sample.csv"
SET_SIZE = 300


@dataclass(frozen=True, slots=True)
class Record:
    brand: str
    legal_name: str
    uscc: str
    address: str

    @property
    def inside(self) -> bool:
        """The brand is literally part of the legal name."""
        return self.brand in self.legal_name

    @property
    def region(self) -> str:
        """The row's 所在区域: the city of the address, else of the USCC's registration code."""
        code = parse_region(self.address) or self.uscc[2:8]
        return code[:4] + "00"


def registry_records(path: Path = REGISTRY) -> list[Record]:
    """The registry's records with a valid USCC (the first of a repeated USCC or name)."""
    records: list[Record] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            code, name = clean_cell(row.get("统一信用代码")), clean_cell(row.get("公司名称"))
            if not name or not is_valid_uscc(code) or code in seen or name in seen:
                continue
            seen.update((code, name))
            brand, address = clean_cell(row.get("名称")), clean_cell(row.get("地址"))
            records.append(Record(brand, name, code, address))
    return records


def _hash(uscc: str) -> int:
    return int(hashlib.sha256(uscc.encode()).hexdigest()[:12], 16)


def labelled_sets(records: list[Record], size: int = SET_SIZE) -> dict[str, list[Record]]:
    """'tuning' and 'independent': brands (≠ legal name, ≥ 2 characters) split by USCC hash."""
    usable = sorted(
        (r for r in records if len(r.brand) >= 2 and r.brand != r.legal_name),
        key=lambda r: _hash(r.uscc),
    )
    brands = Counter(r.brand for r in usable)
    usable = [r for r in usable if brands[r.brand] == 1]  # a brand two records share: no label
    return {
        "tuning": [r for r in usable if _hash(r.uscc) % 2 == 0][:size],
        "independent": [r for r in usable if _hash(r.uscc) % 2 == 1][:size],
    }


@dataclass(slots=True)
class Score:
    counts: Counter[str] = field(default_factory=Counter)
    inside: Counter[str] = field(default_factory=Counter)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def rate(self, outcome: str = "right", subset: str = "inside") -> float:
        counts = self.inside if subset == "inside" else self.counts
        return counts[outcome] / max(1, sum(counts.values()))


def write_enterprises(records: list[Record], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["企业名称", "统一社会信用代码", "注册地址"])
        out.writerows([r.legal_name, r.uscc, r.address] for r in records)
    return path


def write_demands(records: list[Record], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["企业名称", "所在区域", "融资方式", "拟融资金额（万元）"])
        # Distinct amounts: two rows on one enterprise are two demands, not a held duplicate.
        out.writerows([r.brand, r.region, "信用贷款", 100 + i] for i, r in enumerate(records))
    return path


def score_set(
    session: Session, records: list[Record], path: Path, *, absent: bool = False
) -> Score:
    """Import the brand rows (rolled back afterwards) and score each against its label.

    `absent`: the labelled enterprises are deleted first, so any merge is a wrong one."""
    nested = session.begin_nested()
    if absent:
        usccs = [r.uscc for r in records]
        for firm in session.exec(select(Enterprise).where(col(Enterprise.uscc).in_(usccs))):
            session.delete(firm)
        session.flush()
    started = time.perf_counter()
    summary = import_file(session, write_demands(records, path))
    result = Score(seconds=time.perf_counter() - started)
    rows = session.exec(
        select(ImportRow)
        .where(ImportRow.batch_id == summary.batch_id)
        .order_by(ImportRow.row_number)  # type: ignore[arg-type]
    ).all()
    paired = {c.candidate_id for c in session.exec(select(DuplicateCandidate))}
    for record, row in zip(records, rows, strict=True):
        verdict = _verdict(session, record, row, paired)
        result.counts[verdict] += 1
        if record.inside:
            result.inside[verdict] += 1
    nested.rollback()
    return result


def _verdict(session: Session, record: Record, row: ImportRow, paired: set[int]) -> str:
    if row.outcome is ImportOutcome.review:
        return "review"
    if row.outcome is ImportOutcome.quarantined or row.entity_id is None:
        return "quarantined"
    demand = session.get(FinancingDemand, row.entity_id)
    assert demand is not None
    firm = session.get(Enterprise, demand.enterprise_id)
    assert firm is not None
    if firm.uscc == record.uscc:
        return "right"
    if firm.uscc:
        return "wrong"
    return "review" if firm.id in paired else "new"


def run(database: Path) -> tuple[int, dict[str, Score]]:
    records = registry_records()
    sets = labelled_sets(records)
    engine = make_engine(f"sqlite:///{database}")
    upgrade_to_head(engine)
    scores: dict[str, Score] = {}
    with session_scope(engine) as session:
        import_file(session, write_enterprises(records, database.with_suffix(".firms.csv")))
        for name, chosen in sets.items():
            path = database.with_suffix(f".{name}.csv")
            scores[name] = score_set(session, chosen, path)
            scores[f"{name}, enterprises absent"] = score_set(session, chosen, path, absent=True)
    engine.dispose()
    return len(records), scores


def main() -> None:
    if not REGISTRY.exists():
        print(f"skipped: {REGISTRY} not present")
        return
    with tempfile.TemporaryDirectory(prefix="brands-") as folder:
        stored, scores = run(Path(folder) / "brands.sqlite")
    print(f"{stored} registry enterprises stored (legal name, USCC, address; no short name)")
    for name, s in scores.items():
        total, inside = sum(s.counts.values()), sum(s.inside.values())
        print(
            f"{name}: {total} brands — right {s.counts['right']}, wrong merge {s.counts['wrong']}, "
            f"review {s.counts['review']}, new {s.counts['new']}, quarantined {s.counts['quarantined']}; "
            f"inside the legal name {inside}: right {s.inside['right']} ({s.rate():.1%}), "
            f"wrong {s.inside['wrong']}, review {s.inside['review']}, new {s.inside['new']}; "
            f"{total / s.seconds:.0f} rows/s"
        )


if __name__ == "__main__":
    main()
