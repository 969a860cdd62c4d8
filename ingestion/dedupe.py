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

The review queue (`pending_candidates`, `merge_candidate`, `reject_candidate`) lives here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rapidfuzz import fuzz
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ingestion.normalize import brand_of, canonical_descriptor, normalize_company_name, region_key
from ingestion.reads import padded, select_in, select_where
from models import (
    Attendance,
    Consent,
    ContactPerson,
    Deal,
    DuplicateCandidate,
    Enterprise,
    EventParticipant,
    FinancingDemand,
    ImportRow,
    ListingRecord,
    SlateItem,
)
from models.base import utcnow
from models.errors import ConflictError, NotFoundError
from models.feedback import Complaint
from models.ingest_support import EnterpriseAlias
from models.reference import ImportOutcome
from services.audit.repository import append_audit

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
    how: Literal["uscc", "name", "alias", "fuzzy", "new"]
    score: float = 100.0
    review: Sequence[tuple[int, float]] = ()  # a tuple default: no factory call per row


#: Above any character: `name >= brand AND name < brand + _TOP` selects the names starting with it.
_TOP = "\U0010ffff"


class EnterpriseIndex:
    """Identity keys of enterprises: USCC, legal name and 字号 blocks → id.

    An import keeps it per chunk (`prepare`): only the saved enterprises the chunk's rows can
    resolve to — by USCC, or by a normalised name in the row's 字号 block (which holds every
    exact legal name too) — plus the records the chunk creates. So memory does not grow with
    the number of enterprises. `load` reads every enterprise instead. Ids of records pending
    insert are negative until `rekey`.
    """

    def __init__(self) -> None:
        self.clear()
        self._has_aliases: bool | None = None  # whether enterprise_alias has rows (per batch)

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

    @classmethod
    def load(cls, session: Session) -> EnterpriseIndex:
        """Read the keys of all enterprises (three columns, streamed)."""
        index = cls()
        query = select(Enterprise.id, Enterprise.uscc, Enterprise.legal_name)
        for ent_id, uscc, legal_name in session.exec(query.execution_options(yield_per=5000)):
            index.add(int(ent_id or 0), uscc, legal_name)
        aliases = select(EnterpriseAlias.legal_name, EnterpriseAlias.enterprise_id)
        index.add_aliases({name: int(ent_id) for name, ent_id in session.exec(aliases)})
        return index

    def prepare(
        self,
        session: Session,
        wanted: Iterable[tuple[str | None, str | None]],
        columns: Sequence[str] = (),
    ) -> dict[int, dict[str, Any]]:
        """Hold only the saved enterprises these (USCC, legal name) pairs may resolve to.

        Returns those records as rows of their identity keys plus `columns`, read by the same
        queries (by USCC, by 字号 block, and the records aliases point at).
        """
        self.clear()
        pairs = list(wanted)
        table = Enterprise.__table__  # type: ignore[attr-defined]
        usccs = sorted({uscc for uscc, _name in pairs if uscc})
        saved_usccs = {
            r["uscc"]: r["id"] for r in select_in(session, table, _USCC_KEY, "uscc", usccs)
        }
        names = {name for _uscc, name in pairs if name}
        # A row whose USCC a record carries resolves to it (rule 1): its 字号 block is not read
        # for it. The unique index on uscc holds the ids, so that query reads no table rows.
        blocked = {name for uscc, name in pairs if name and not (uscc and uscc in saved_usccs)}
        brands = {brand_of(normalize_company_name(name))[0] for name in blocked}
        aliases = _aliases_of(session, sorted(names)) if self._aliases_exist(session) else {}
        read = (*_KEY_COLUMNS, *(c for c in columns if c not in _KEY_COLUMNS))
        found: _Saved = {}
        for chunk in padded(sorted(brands), 200):
            found.update(_saved_in_blocks(session, read, chunk))
        others = (set(saved_usccs.values()) | set(aliases.values())) - set(found)
        in_blocks = set(found)
        found.update(_saved(session, read, "id", sorted(others)))
        # A record outside the blocks read is in no block a row of the chunk looks up (its
        # 字号 would have put it in one): the 字号 of those found by USCC alone is not worked out.
        for ent_id in sorted(found):
            row = found[ent_id]
            self.add(ent_id, row["uscc"], row["legal_name"], row["normalized_name"],
                     block=ent_id in in_blocks)  # fmt: skip
        self.add_aliases(aliases)
        return found

    def _aliases_exist(self, session: Session) -> bool:
        """Whether any alias is recorded: asked once, as a batch does not merge records."""
        if self._has_aliases is None:
            query = select(EnterpriseAlias.id).limit(1)
            self._has_aliases = session.exec(query).first() is not None
        return self._has_aliases

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

    def rekey(self, temp_id: int, real_id: int) -> None:
        """Replace a pending record's temporary id by the id the database gave it."""
        uscc, name, norm = self.uscc.pop(temp_id), self.name.pop(temp_id), self.norm.pop(temp_id)
        if temp_id in self.region:
            self.region[real_id] = self.region.pop(temp_id)
        if uscc:
            self.by_uscc[uscc] = real_id
        if self.by_name.get(name) == temp_id:
            self.by_name[name] = real_id
        block = self.by_brand[brand_of(norm)[0]]
        block[block.index(temp_id)] = real_id
        self.norm[real_id], self.uscc[real_id], self.name[real_id] = norm, uscc, name

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


_Saved = dict[int, dict[str, Any]]  # id → row (identity keys and the columns asked for)
_KEY_COLUMNS = ("id", "uscc", "legal_name", "normalized_name")
_USCC_KEY = ("id", "uscc")


def _by_id(rows: Iterable[dict[str, Any]]) -> _Saved:
    return {int(row["id"]): row for row in rows}


def _saved(session: Session, columns: Sequence[str], key: str, values: list[Any]) -> _Saved:
    """The enterprises whose `key` column is one of `values`."""
    table = Enterprise.__table__  # type: ignore[attr-defined]
    return _by_id(select_in(session, table, columns, key, values))


def _aliases_of(session: Session, names: list[str]) -> dict[str, int]:
    table = EnterpriseAlias.__table__  # type: ignore[attr-defined]
    rows = select_in(session, table, ("legal_name", "enterprise_id"), "legal_name", names)
    return {r["legal_name"]: int(r["enterprise_id"]) for r in rows}


def _saved_in_blocks(session: Session, columns: Sequence[str], brands: list[str]) -> _Saved:
    """Enterprises whose stored normalised name starts with one of `brands` (index range scans).

    On SQLite the ranges go to the driver as they are (200 ranges would cost SQLAlchemy more
    to compile than SQLite to run); elsewhere a LIKE per brand.
    """
    table = Enterprise.__table__  # type: ignore[attr-defined]
    if session.connection().dialect.name != "sqlite":
        column = col(Enterprise.normalized_name)
        escaped = (b.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for b in brands)
        query = select(*(table.c[c] for c in columns)).where(
            or_(*(column.like(e + "%", escape="\\") for e in escaped))
        )
        return _by_id(
            dict(zip(columns, r, strict=True)) for r in session.connection().execute(query)
        )
    ranges = " OR ".join(["(normalized_name >= ? AND normalized_name < ?)"] * len(brands))
    params = tuple(x for b in brands for x in (b, b + _TOP))
    return _by_id(select_where(session, table, columns, ranges, params))


# ---------------------------------------------------------------------------------------------
# Review queue
# ---------------------------------------------------------------------------------------------

#: Every (table, column) that points at an enterprise; a merge moves them all.
ENTERPRISE_REFERENCES: tuple[tuple[Any, str], ...] = (
    (FinancingDemand, "enterprise_id"),
    (ListingRecord, "enterprise_id"),
    (Deal, "enterprise_id"),
    (Attendance, "enterprise_id"),
    (EventParticipant, "enterprise_id"),
    (SlateItem, "enterprise_id"),
    (ContactPerson, "enterprise_id"),
    (Consent, "enterprise_id"),
    (Complaint, "enterprise_id"),
    (EnterpriseAlias, "enterprise_id"),
)


def pending_candidates(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Pending pairs with both names, most similar first."""
    query = (
        select(DuplicateCandidate)
        .where(DuplicateCandidate.status == "pending")
        .order_by(col(DuplicateCandidate.similarity).desc(), col(DuplicateCandidate.id))
        .limit(limit)
    )
    out = []
    for cand in session.exec(query):
        kept, other = (
            session.get(Enterprise, cand.enterprise_id),
            session.get(Enterprise, cand.candidate_id),
        )
        out.append(
            {
                "id": cand.id,
                "enterprise_id": cand.enterprise_id,
                "enterprise_name": kept.legal_name if kept else None,
                "candidate_id": cand.candidate_id,
                "candidate_name": other.legal_name if other else None,
                "similarity": round(cand.similarity, 1),
                "batch_id": cand.batch_id,
            }
        )
    return out


def _pending(session: Session, candidate_id: int) -> DuplicateCandidate:
    cand = session.get(DuplicateCandidate, candidate_id)
    if cand is None:
        raise NotFoundError(f"疑似重复记录 {candidate_id} 不存在")
    if cand.status != "pending":
        raise ConflictError(f"疑似重复记录 {candidate_id} 已处理（{cand.status}）")
    return cand


def merge_candidate(session: Session, candidate_id: int, user: str) -> int:
    """Merge the pair's newer enterprise into the older one; return the id kept.

    Blank fields of the kept record are filled from the other; every reference moves over;
    the other record is deleted; import rows that pointed at it now point at the kept one. The
    pair itself is deleted with it (it references the deleted record); the audit log keeps the
    decision, who made it and the similarity.
    """
    cand = _pending(session, candidate_id)
    kept = session.get(Enterprise, cand.enterprise_id)
    gone = session.get(Enterprise, cand.candidate_id)
    if kept is None or gone is None:
        raise NotFoundError("疑似重复记录所指的企业已不存在")
    detail = {"merged_id": gone.id, "merged_name": gone.legal_name, "similarity": cand.similarity,
              "candidate": cand.id, "batch_id": cand.batch_id}  # fmt: skip
    _fill_blanks(kept, gone)
    # The pair row points at the record about to go, so it goes too; the audit row keeps it.
    _move_references(session, gone_id=cand.candidate_id, kept_id=cand.enterprise_id)
    _remember_name(session, gone, kept)
    session.flush()
    session.delete(gone)
    session.flush()
    if kept.uscc is None and gone.uscc:
        kept.uscc = gone.uscc
        session.add(kept)
        session.flush()
    append_audit(
        session, actor=user, action="merge", entity="enterprise", entity_id=kept.id, detail=detail
    )
    assert kept.id is not None
    return kept.id


def _remember_name(session: Session, gone: Enterprise, kept: Enterprise) -> None:
    """Keep the merged record's name as an alias of the kept one (a later row may use it)."""
    if gone.legal_name == kept.legal_name or kept.id is None:
        return
    known = select(EnterpriseAlias).where(EnterpriseAlias.legal_name == gone.legal_name)
    if session.exec(known).first() is None:
        session.add(
            EnterpriseAlias(
                enterprise_id=kept.id,
                legal_name=gone.legal_name,
                normalized_name=normalize_company_name(gone.legal_name)[:200],
                merged_from_id=gone.id,
            )
        )


def _fill_blanks(kept: Enterprise, gone: Enterprise) -> None:
    for name in Enterprise.model_fields:
        if name in ("id", "uscc", "created_at", "updated_at", "legal_name", "normalized_name"):
            continue
        if getattr(kept, name) in (None, []) and getattr(gone, name) not in (None, []):
            setattr(kept, name, getattr(gone, name))
    kept.updated_at = utcnow()


def _move_references(session: Session, *, gone_id: int, kept_id: int) -> None:
    for model, column in ENTERPRISE_REFERENCES:
        attr = getattr(model, column)
        try:
            with session.begin_nested():
                session.execute(update(model).where(attr == gone_id).values({column: kept_id}))
        except IntegrityError as exc:
            raise ConflictError(
                f"两家企业都有{model.__tablename__}记录且不能并存，请先手工处理后再合并"
            ) from exc
    session.execute(
        update(ImportRow)
        .where(col(ImportRow.entity_id) == gone_id)
        .values(entity_id=kept_id, outcome=ImportOutcome.merged)
    )
    others = select(DuplicateCandidate).where(
        (col(DuplicateCandidate.enterprise_id) == gone_id)
        | (col(DuplicateCandidate.candidate_id) == gone_id)
    )
    for other in session.exec(others):
        session.delete(other)


def reject_candidate(session: Session, candidate_id: int, user: str) -> None:
    """Keep the pair apart for good: the same pair is not proposed again."""
    cand = _pending(session, candidate_id)
    cand.status, cand.decided_by, cand.decided_at = "rejected", user, utcnow()
    session.add(cand)
    session.flush()
    append_audit(
        session, actor=user, action="reject_duplicate", entity="duplicate_candidate",
        entity_id=cand.id, detail={"enterprise_id": cand.enterprise_id, "candidate_id": cand.candidate_id},
    )  # fmt: skip
