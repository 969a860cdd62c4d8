"""What a row of each kind becomes: the records it upserts and the natural keys that find them.

| kind         | record (natural key)                                   | also touches            |
| ------------ | ------------------------------------------------------ | ----------------------- |
| enterprises  | enterprise (USCC, legal name, de-duplicated name)      |                         |
| demands      | financing_demand (enterprise + 需求编号, else + 融资方式) | its enterprise          |
| listing      | listing_record (enterprise)                            | its enterprise, tiers   |
| institutions | institution (normalised name)                          |                         |
| products     | loan_product (institution + name)                      |                         |
| mandates     | investment_mandate (institution + name)                |                         |
| deals        | deal (enterprise + institution + type + date)          |                         |
| events       | attendance (event + person)                            | the event (title + date)|

Rows of kinds that refer to an institution, or deals to an enterprise, are quarantined when it
is not found: those kinds never create the party they refer to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session

from ingestion.brands import BrandIndex, is_brand_like
from ingestion.dedupe import EnterpriseIndex, Resolution
from ingestion.normalize import brand_of, normalize_company_name, region_of_name
from ingestion.validate import ParsedRow, Problem, RowHeld, RowRejected, Rule
from models import (
    Attendance,
    ContactPerson,
    Deal,
    Enterprise,
    EnterpriseAlias,
    Event,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    ListingRecord,
    ListingTierChange,
    LoanProduct,
)
from models.clock import center_date, center_today, center_zone
from models.reference import (
    DealType,
    DemandStatus,
    EventKind,
    ImportKind,
    ImportOutcome,
    InstitutionKind,
    ListingTier,
)
from services.imports import repository
from services.imports.load import (
    EMPTY_VALUES,
    BatchWriter,
    KeyedStore,
    TableStore,
    upsert_keyed,
)
from services.imports.repository import select_in
from services.pipeline.demands import record_change

ENTERPRISE_COLUMNS = {
    "legal_name": "legal_name", "uscc": "uscc", "short_name": "short_name",
    "industry": "industry_code", "stage": "stage", "founded_on": "founded_on",
    "registered_capital": "registered_capital_wan", "employees": "employees",
    "rd_staff": "rd_staff", "revenue": "revenue_wan", "net_profit": "net_profit_wan",
    "rd_expense": "rd_expense_wan", "patents": "patents", "qualifications": "qualifications",
    "business_scope": "business_scope",
}  # fmt: skip
#: What the change set calls an enterprise column (users see Chinese).
ENTERPRISE_LABELS = {
    "legal_name": "企业名称", "uscc": "统一社会信用代码", "short_name": "简称/品牌",
    "industry_code": "所属行业", "stage": "发展阶段", "founded_on": "成立日期",
    "registered_capital_wan": "注册资本（万元）", "employees": "员工人数", "rd_staff": "研发人员",
    "revenue_wan": "营业收入（万元）", "net_profit_wan": "净利润（万元）",
    "rd_expense_wan": "研发投入（万元）", "patents": "专利数", "qualifications": "资质",
    "business_scope": "经营范围", "region_code": "所在区域",
}  # fmt: skip
DEMAND_COLUMNS = {
    "financing_type": "financing_type", "round_stage": "round_stage", "purpose": "purpose",
    "collateral": "collateral_offered", "term_months": "term_months", "deadline": "deadline",
    "source_ref": "source_ref", "confidentiality": "confidentiality",
}  # fmt: skip
#: Contact-person fields of a row → `contact_person` columns (personal information).
CONTACT_COLUMNS = {
    "contact_name": "name", "contact_title": "title", "contact_phone": "phone",
    "contact_email": "email",
}  # fmt: skip
Outcome = tuple[ImportOutcome, int]
#: The enterprise columns an import row is compared with (the rest are never read back).
_COMPARED_ENTERPRISE_COLUMNS = (
    *ENTERPRISE_COLUMNS.values(), "normalized_name", "region_code", "sei_category",
)  # fmt: skip
_DEMAND_KEY_COLUMNS = ("enterprise_id", "source_ref", "status", "financing_type")


def _pick(values: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    # A row holds fewer fields than most of these maps list: walk the row's.
    return {columns[name]: value for name, value in values.items() if name in columns}


_KEY_COLUMNS = ("id", "uscc", "legal_name", "normalized_name")


def prepare_index(
    session: Session,
    index: EnterpriseIndex,
    wanted: Iterable[tuple[str | None, str | None]],
    columns: Sequence[str] = (),
) -> dict[int, dict[str, Any]]:
    """Let `index` hold only the saved enterprises these (USCC, legal name) pairs may resolve to.

    Returns those records as rows of their identity keys plus `columns`, read by the same
    queries (by USCC, by 字号 block, and the records aliases point at).
    """
    index.clear()
    pairs = list(wanted)
    table = Enterprise.__table__  # type: ignore[attr-defined]
    read = (*_KEY_COLUMNS, *(c for c in columns if c not in _KEY_COLUMNS))
    by_uscc = select_in(session, table, read, "uscc", sorted({u for u, _name in pairs if u}))
    saved_usccs = {r["uscc"]: r["id"] for r in by_uscc}
    names = sorted({name for _uscc, name in pairs if name})
    # A row whose USCC a record carries resolves to it (rule 1): its 字号 block is not read.
    blocked = {name for uscc, name in pairs if name and not (uscc and uscc in saved_usccs)}
    brands = sorted({brand_of(normalize_company_name(name))[0] for name in blocked})
    if index.has_aliases is None:  # asked once: a batch does not merge records
        index.has_aliases = repository.any_alias(session)
    aliases: dict[str, int] = {}
    if index.has_aliases:
        alias_table = EnterpriseAlias.__table__  # type: ignore[attr-defined]
        read_aliases = select_in(
            session, alias_table, ("legal_name", "enterprise_id"), "legal_name", names
        )
        aliases = {r["legal_name"]: int(r["enterprise_id"]) for r in read_aliases}
    found = {r["id"]: r for r in repository.enterprises_in_blocks(session, read, brands)}
    in_blocks = set(found)
    found |= {r["id"]: r for r in by_uscc if r["id"] not in in_blocks}
    others = sorted(set(aliases.values()) - found.keys())
    found.update((r["id"], r) for r in select_in(session, table, read, "id", others))
    # A record outside the blocks read is in no block a row of the chunk looks up (its
    # 字号 would have put it in one): the 字号 of those found by USCC alone is not worked out.
    for ent_id in sorted(found):
        row = found[ent_id]
        index.add(ent_id, row["uscc"], row["legal_name"], row["normalized_name"],
                  block=ent_id in in_blocks)  # fmt: skip
    index.add_aliases(aliases)
    return found


class InstitutionLookup:
    """Institutions by exact and normalised name (the table is small: read once per batch)."""

    def __init__(self, session: Session) -> None:
        self.by_name: dict[str, tuple[int, InstitutionKind]] = {}
        self.by_norm: dict[str, tuple[int, InstitutionKind]] = {}
        for inst_id, name, kind in repository.institution_names(session):
            entry = (inst_id, InstitutionKind(kind))
            self.by_name[name] = entry
            self.by_norm.setdefault(normalize_company_name(name), entry)

    def find(self, name: str) -> tuple[int, InstitutionKind] | None:
        """The id and kind of the institution called `name`, if known."""
        return self.by_name.get(name) or self.by_norm.get(normalize_company_name(name))


class Loader:
    """Per-kind decisions for one batch; `handle` returns a row's outcome and primary id."""

    def __init__(self, session: Session, kind: ImportKind, writer: BatchWriter) -> None:
        self.session = session
        self.kind = kind
        self.writer = writer
        self.index: EnterpriseIndex | None = None
        self.enterprises: TableStore | None = None
        self.institutions: InstitutionLookup | None = None
        self.stores: list[TableStore] = []
        self.related: dict[str, int] = {}
        self.brands: BrandIndex | None = None  # read on the first row named by a brand
        self._created_enterprises: set[int] = set()  # what this batch inserted
        # Open demands (type, low, high, id) of the enterprises the batch's rows landed on: read
        # once per batch for a stored one, kept as written for one the batch created.
        self._open: dict[int, list[tuple[str, float, float, int]]] = {}
        self.contacts: KeyedStore | None = None  # made by the first chunk with contact columns
        self.contacts_stored = 0
        self.handle: Callable[[ParsedRow], Outcome] = getattr(self, f"_{kind.value}")
        getattr(self, f"_setup_{_SETUP[kind]}")()

    # -- set-up ------------------------------------------------------------------------------

    def _setup_enterprise_based(self) -> None:
        self.index = EnterpriseIndex()
        self.enterprises = TableStore(self.session, Enterprise, _COMPARED_ENTERPRISE_COLUMNS)
        self.stores = [self.enterprises]
        if self.kind is ImportKind.demands:
            self.demands = KeyedStore(
                self.session, FinancingDemand, _demand_keys, "enterprise_id", _DEMAND_KEY_COLUMNS
            )
            self._child(self.enterprises, self.demands, "enterprise_id")
            # What this batch wrote, so the demands of the enterprises it created need no read:
            self._created: set[int] = set()  # the enterprises it inserted
            self._unnumbered: set[int] = set()  # … of those, those given a demand without 需求编号
            self._refs: set[str] = set()  # the 需求编号 of the demands it inserted
        if self.kind is ImportKind.listing:
            self.institutions = InstitutionLookup(self.session)
            self.listing = KeyedStore(
                self.session, ListingRecord, lambda r: [r["enterprise_id"]], "enterprise_id"
            )
            self.tiers = TableStore(self.session, ListingTierChange)
            self._child(self.enterprises, self.listing, "enterprise_id")
            self._child(self.listing, self.tiers, "listing_record_id")

    def _setup_institution_based(self) -> None:
        self.institutions = InstitutionLookup(self.session)
        if self.kind is ImportKind.institutions:
            self.institution_store = KeyedStore(
                self.session, Institution, lambda r: [normalize_company_name(r["name"])]
            )
            self.stores = [self.institution_store]
        else:
            model = LoanProduct if self.kind is ImportKind.products else InvestmentMandate
            self.offers = KeyedStore(
                self.session, model, lambda r: [(r["institution_id"], r["name"])], "institution_id"
            )
            self.stores = [self.offers]
        if self.kind is ImportKind.deals:
            self.index = EnterpriseIndex()
            self.deals = KeyedStore(self.session, Deal, _deal_keys, "enterprise_id")
            self.stores = [self.deals]

    def _setup_events(self) -> None:
        self.index = EnterpriseIndex()
        self.institutions = InstitutionLookup(self.session)
        self.events = KeyedStore(self.session, Event, _event_keys)
        self.attendance = KeyedStore(
            self.session, Attendance, lambda r: [(r["event_id"], r["person_key"])], "event_id"
        )
        self._child(self.events, self.attendance, "event_id")

    def _child(self, parent: TableStore, child: TableStore, column: str) -> None:
        parent.children.append((child, column))
        for store in (parent, child):
            if store not in self.stores:
                self.stores.append(store)

    # -- chunk boundaries --------------------------------------------------------------------

    def prefetch(self, rows: Iterable[ParsedRow]) -> None:
        """Bulk-load the existing records this chunk's rows may resolve to (a few queries).

        The identity queries read the enterprises' compared columns too; their children
        (demands, listing records) are loaded for every enterprise found, a superset of those
        the rows resolve to (a 字号 block can hold a few look-alikes).
        """
        if self.index is None:
            return
        rows = list(rows)
        name_field = "organisation" if self.kind is ImportKind.events else "legal_name"
        wanted = [(row.values.get("uscc"), row.values.get(name_field)) for row in rows]
        if self.enterprises is None:
            prepare_index(self.session, self.index, wanted)
            return
        saved = prepare_index(self.session, self.index, wanted, _compared_columns(rows))
        self.enterprises.seed(saved.values())
        ids = sorted(saved)
        self._prefetch_contacts(rows, ids)
        if self.kind is ImportKind.demands:
            self._load_open_demands(self._unread(ids))
            refs, types = _demand_refs_and_types(rows)
            fresh = self._demands_known_empty(ids, refs)
            self.demands.mark_loaded(fresh)
            if fresh:
                skip = set(fresh)
                ids = [i for i in ids if i not in skip]
            self.demands.load_for(ids, narrow=("source_ref", sorted(refs)))
            self.demands.fetch_keys(_demand_keys_wanted(self.demands.by_key, refs, types))
            return
        for child, _column in self.enterprises.children:
            if isinstance(child, KeyedStore):
                child.load_for(ids)

    def _prefetch_contacts(self, rows: list[ParsedRow], ids: list[int]) -> None:
        """Load the contacts of these enterprises, once a row of the batch has contact columns
        (a sheet without them costs nothing)."""
        if self.contacts is None:
            if not any(CONTACT_COLUMNS.keys() & row.values.keys() for row in rows):
                return
            self.contacts = KeyedStore(self.session, ContactPerson, _contact_keys, "enterprise_id")
            assert self.enterprises is not None
            self._child(self.enterprises, self.contacts, "enterprise_id")
        self.contacts.load_for(ids)

    def _demands_known_empty(self, ids: list[int], refs: set[str]) -> list[int]:
        """The enterprises among `ids` no row of the chunk can find a saved demand of.

        An enterprise this batch created has only the demands this batch gave it (its record
        is not committed: nobody else can add one), and a demand's 需求编号 never changes in a
        batch. A row with a 需求编号 lands only on a demand with that number, one without only
        on an unnumbered demand (`_demand_keys`). So a created enterprise that got no
        unnumbered demand cannot be hit unless one of the chunk's numbers was inserted before
        (then every enterprise is read).
        """
        if not self._refs.isdisjoint(refs):
            return []
        created, unnumbered = self._created, self._unnumbered
        return [i for i in ids if i in created and i not in unnumbered]

    def flush(self) -> None:
        """Write the chunk: parents before children, then the provenance rows."""
        new_demands = list(self.demands.pending.values()) if self.kind is ImportKind.demands else []
        new_enterprises = list(self.enterprises.pending.items()) if self.enterprises else []
        mappings = [store.flush() for store in self.stores]
        enterprise_map: dict[int, int] = {}
        if self.enterprises is not None and self.index is not None:
            enterprise_map = mappings[self.stores.index(self.enterprises)]
            self._created_enterprises.update(enterprise_map.values())
            for temp, saved in enterprise_map.items():
                if temp in self._open:
                    self._open[saved] = self._open.pop(temp)
        if self.brands is not None:
            self.brands.extend(_brand_row(enterprise_map[t], row) for t, row in new_enterprises)
        if self.kind is ImportKind.demands:  # the rows' enterprise ids are the database's now
            self._created.update(enterprise_map.values())
            self._refs.update(row["source_ref"] for row in new_demands if row.get("source_ref"))
            self._unnumbered.update(
                row["enterprise_id"] for row in new_demands if not row.get("source_ref")
            )
        if self.index is not None:
            self.index.clear()  # the next chunk's `prefetch` loads what it needs
        self.writer.flush(mappings[self._primary_position()], enterprise_map)

    def _primary_position(self) -> int:
        primary = {
            ImportKind.demands: "demands", ImportKind.listing: "listing",
            ImportKind.events: "attendance", ImportKind.enterprises: "enterprises",
            ImportKind.institutions: "institution_store", ImportKind.deals: "deals",
        }.get(self.kind, "offers")  # fmt: skip
        return self.stores.index(getattr(self, primary))

    def _bump(self, name: str) -> None:
        self.related[name] = self.related.get(name, 0) + 1

    def _bump_enterprise(self, outcome: ImportOutcome) -> None:
        name = _ENTERPRISE_COUNTER[outcome]
        self.related[name] = self.related.get(name, 0) + 1

    # -- enterprises -------------------------------------------------------------------------

    def resolve(self, row: ParsedRow) -> Resolution:
        """The row's enterprise under the de-duplication rules, then by brand (`_by_brand`)."""
        assert self.index is not None
        v = row.values
        found = self.index.resolve(v.get("uscc"), v.get("legal_name"))
        if found.how in ("new", "fuzzy") and not v.get("uscc"):
            return self._by_brand(row, found)
        return found

    def _by_brand(self, row: ParsedRow, found: Resolution) -> Resolution:
        """A name without a legal form, looked up as a brand in the row's region.

        Raises `RowHeld` when it names several enterprises there (or one only mid-name);
        when it names none, `found` stands — as a review pair if it is in another city — and
        so it does when the row says nothing of its region."""
        name = row.values.get("legal_name")
        if not name or not is_brand_like(name):
            return found
        region = row.values.get("region") or row.values.get("address") or region_of_name(name)
        if not region:
            return found
        if self.brands is None:
            self.brands = BrandIndex()
            self.brands.extend(repository.enterprise_names(self.session))
        hit = self.brands.lookup(name, region)
        if hit.entity_id is not None:
            return Resolution(hit.entity_id, "brand")
        if hit.candidates:
            raise RowHeld(
                _brand_problem(row, name, [self.brands.legal_name[c] for c in hit.candidates])
            )
        if found.entity_id is not None and self.brands.elsewhere(found.entity_id, region):
            return Resolution(None, "new", review=[(found.entity_id, found.score)])
        return found

    def upsert_enterprise(self, row: ParsedRow, found: Resolution | None = None) -> Outcome:
        """Find (`resolve`, unless `found`) or create the row's enterprise."""
        assert self.index is not None and self.enterprises is not None
        v = row.values
        values = _pick(v, ENTERPRISE_COLUMNS)
        if "industry_code" in values:
            _split_industry(values)
        found = found or self.resolve(row)
        if found.entity_id is None:
            _add_region(values, v)
            return ImportOutcome.inserted, self._new_enterprise(row, values, found.review)
        ent_id = found.entity_id
        by_other_name = found.how in ("fuzzy", "alias", "brand")
        duplicate = ent_id in self.enterprises.touched or by_other_name
        # A duplicate only fills empty fields: a derived value for a filled one is not needed.
        current = self.enterprises.cache.get(ent_id) or self.enterprises.get(ent_id)
        if not duplicate or current.get("region_code") in EMPTY_VALUES:
            _add_region(values, v)
        if found.how == "brand":  # the brand becomes its short name, if it has none
            values["short_name"] = values.get("short_name") or values["legal_name"][:100]
        if by_other_name or "legal_name" not in values:
            values.pop("legal_name", None)
        elif not duplicate or current.get("normalized_name") in EMPTY_VALUES:
            values["normalized_name"] = normalize_company_name(values["legal_name"])
        had_uscc = self.index.uscc.get(ent_id)
        if ent_id > 0 and ent_id not in self._created_enterprises:
            self._record_changes(row, current, values, fill_only=duplicate)
        changed = self.enterprises.apply(ent_id, values, fill_only=duplicate)
        if not had_uscc and values.get("uscc"):
            self.index.set_uscc(ent_id, values["uscc"])
        if found.how == "fuzzy":
            row.notes.append(
                f"按名称相似合并至企业“{self.index.name[ent_id]}”（相似度{found.score:.0f}）"
            )
        elif found.how == "brand":
            row.notes.append(f"按简称/品牌（同一地区）对应至企业“{current['legal_name']}”")
        elif found.how == "alias":
            row.notes.append(f"按曾用名（已人工合并）合并至企业“{self.index.name[ent_id]}”")
        if duplicate:
            return ImportOutcome.merged, ent_id
        return (ImportOutcome.updated if changed else ImportOutcome.unchanged), ent_id

    def _new_enterprise(
        self, row: ParsedRow, values: dict[str, Any], review: Sequence[tuple[int, float]]
    ) -> int:
        assert self.index is not None and self.enterprises is not None
        if "legal_name" not in values:
            raise RowRejected(
                Problem(
                    "统一社会信用代码",
                    values.get("uscc"),
                    "库中无此统一社会信用代码的企业，且本行未填写企业名称",
                )
            )
        values["normalized_name"] = normalize_company_name(values["legal_name"])[:200]
        temp = self.enterprises.insert(values)
        self.index.add(temp, values.get("uscc"), values["legal_name"])
        for candidate, score in review:
            self.writer.reviews.append((candidate, temp, score))
            row.notes.append(
                f"与企业“{self.index.name[candidate]}”名称相近，已列入疑似重复待人工确认"
            )
        return temp

    def _record_changes(
        self, row: ParsedRow, current: dict[str, Any], values: dict[str, Any], *, fill_only: bool
    ) -> None:
        """Queue, as the batch's change set, what `values` change on a stored enterprise."""
        empty, held = EMPTY_VALUES, current.get
        changes = {
            k: v
            for k, v in values.items()
            if v not in empty
            and k not in _DERIVED
            and (held(k) in empty if fill_only else held(k) != v)
        }
        if changes:
            self.writer.change(row, current, changes, ENTERPRISE_LABELS)

    def _enterprises(self, row: ParsedRow) -> Outcome:
        outcome, ent_id = self.upsert_enterprise(row)
        if self.contacts is not None:
            self._store_contact(row, ent_id)
        return outcome, ent_id

    def _enterprise_for(self, row: ParsedRow, found: Resolution | None = None) -> int:
        outcome, ent_id = self.upsert_enterprise(row, found)
        self._bump_enterprise(outcome)
        if self.contacts is not None:
            self._store_contact(row, ent_id)
        return ent_id

    def _store_contact(self, row: ParsedRow, ent_id: int) -> None:
        """The row's contact person, kept with its enterprise (found again by name)."""
        assert self.contacts is not None
        values = _pick(row.values, CONTACT_COLUMNS)
        if not values:
            return
        if "name" not in values:
            field = next(f for f in CONTACT_COLUMNS if f in row.values)
            row.warn(_column(row, field), row.values[field], Rule.contact_format,
                     "有联系方式但未填写联系人姓名，联系人未保存")  # fmt: skip
            return
        values["enterprise_id"] = ent_id
        outcome, _id = upsert_keyed(self.contacts, (ent_id, values["name"]), values, ent_id)
        if outcome in (ImportOutcome.inserted, ImportOutcome.updated):
            self.contacts_stored += 1

    # -- demands and listing -----------------------------------------------------------------

    def _demands(self, row: ParsedRow) -> Outcome:
        values = _demand_values(row)
        found = self.resolve(row)
        if found.entity_id is not None:
            self._check_second_demand(row, found.entity_id, values)
        ent_id = self._enterprise_for(row, found)
        values["enterprise_id"] = ent_id
        key = _demand_key(ent_id, values)
        existing = self.demands.find(key, ent_id)
        changes = {}
        if existing is not None and existing > 0 and existing not in self.demands.touched:
            changes = self.demands.differences(existing, values)
        outcome, demand_id = upsert_keyed(self.demands, key, values, ent_id)
        if outcome is ImportOutcome.inserted:
            self._open.setdefault(ent_id, []).append((*_range_of(values), demand_id))
        self._record_demand_changes(demand_id, changes)
        return outcome, demand_id

    def _record_demand_changes(self, demand_id: int, changes: dict[str, tuple[Any, Any]]) -> None:
        """History of a numbered demand the row updated: who imported it, in which batch."""
        batch = self.writer.batch
        for name, (old, new) in changes.items():
            record_change(self.session, demand_id, name, old, new, actor=batch.user,
                          note=f"导入批次 #{batch.id}")  # fmt: skip

    def _load_open_demands(self, ids: list[int]) -> None:
        if not ids:
            return
        for ent_id, demand_id, kind, low, high in repository.open_demand_ranges(self.session, ids):
            self._open.setdefault(ent_id, []).append((kind, low, high, demand_id))
        self._open.update((i, []) for i in ids if i not in self._open)

    def _unread(self, ids: list[int]) -> list[int]:
        """The stored enterprises among `ids` whose open demands are not known yet."""
        known, created = self._open, self._created_enterprises
        return [i for i in ids if i > 0 and i not in known and i not in created]

    def _check_second_demand(self, row: ParsedRow, ent_id: int, values: dict[str, Any]) -> None:
        """Hold a row that would change an open demand it does not name by its 需求编号, or add
        a second open demand of the enterprise with the same financing type and an overlapping
        amount range. The same values again leave the demand unchanged; a row with the demand's
        需求编号 updates it (with history)."""
        same = self.demands.find(_demand_key(ent_id, values), ent_id)
        if same is not None:
            if values.get("source_ref") or same in self.demands.touched:
                return  # an explicit update, or a duplicate row of this batch (merged)
            if self.demands.differences(same, values):
                current = self.demands.get(same)
                lo, hi = current["amount_min_wan"], current["amount_max_wan"]
                raise RowHeld(_held_demand(row, f"该企业已有融资方式相同的在办需求 #{same}"
                                           f"（{lo:g}–{hi:g} 万元），本行的金额或条件与之不同；"
                                           "未修改该需求，待人工复核（确需修改请在该需求上编辑）"))  # fmt: skip
            return
        ranges = self._open.get(ent_id)
        if ranges is None and ent_id > 0 and ent_id not in self._created_enterprises:
            self._load_open_demands([ent_id])
            ranges = self._open[ent_id]
        kind, low, high = _range_of(values)
        for other, lo, hi, demand_id in ranges or ():
            if other == kind and lo <= high and low <= hi:
                named = f"在办需求 #{demand_id}" if demand_id > 0 else "在办需求（本批次前面的行）"
                raise RowHeld(_held_demand(row, f"该企业已有融资方式相同、金额区间重叠的{named}"
                                           f"（{lo:g}–{hi:g} 万元），本行未新建需求，待人工复核"))  # fmt: skip

    def _listing(self, row: ParsedRow) -> Outcome:
        v = row.values
        values = _pick(v, {"target_board": "target_board", "tier": "tier", "listed_board": "listed_board",
                           "listed_on": "listed_on", "estimated_market_value": "estimated_market_value_wan",
                           "coaching_started_on": "coaching_started_on"})  # fmt: skip
        if "sponsor" in v and self.institutions is not None:
            sponsor = self.institutions.find(v["sponsor"])
            if sponsor:
                values["sponsor_institution_id"] = sponsor[0]
            else:
                row.notes.append(f"辅导机构“{v['sponsor']}”不在入驻机构中，未关联")
        ent_id = self._enterprise_for(row)
        values["enterprise_id"] = ent_id
        existing = self.listing.find(ent_id, ent_id)
        old_tier = self.listing.get(existing)["tier"] if existing is not None else None
        if existing is None:
            values.setdefault("tier", ListingTier.reserve)
            values.setdefault("coaching_started_on", center_today())
        outcome, rec_id = upsert_keyed(self.listing, ent_id, values, ent_id)
        new_tier = self.listing.get(rec_id)["tier"]
        if new_tier != old_tier:
            entered = values.get("coaching_started_on") if existing is None else center_today()
            self.tiers.insert(
                {"listing_record_id": rec_id, "tier": new_tier, "entered_on": entered}
            )
        return outcome, rec_id

    # -- institutions, products, mandates, deals ---------------------------------------------

    def _institutions(self, row: ParsedRow) -> Outcome:
        v = row.values
        values = _pick(v, {"institution_name": "name", "institution_kind": "kind", "uscc": "uscc",
                           "short_name": "short_name", "regions_served": "regions_served",
                           "focus": "focus", "agreement_start": "agreement_start",
                           "agreement_end": "agreement_end", "email": "email"})  # fmt: skip
        values["short_name"] = (values.get("short_name") or "")[:60] or None
        key = normalize_company_name(values["name"])
        existing = self.institution_store.find(key)
        if existing is not None and self.institution_store.get(existing)["name"] != values["name"]:
            values.pop("name")
            row.notes.append("按名称规范化后与已有机构相同，已合并")
            self.institution_store.apply(existing, values, fill_only=True)
            return ImportOutcome.merged, existing
        return upsert_keyed(self.institution_store, key, values)

    def _institution_of(self, row: ParsedRow) -> tuple[int, InstitutionKind]:
        assert self.institutions is not None
        found = self.institutions.find(row.values["institution_name"])
        if found is None:
            raise RowRejected(Problem(_column(row, "institution_name"), row.values["institution_name"],
                                      "机构不在入驻机构库中，请先导入入驻机构"))  # fmt: skip
        return found

    def _products(self, row: ParsedRow) -> Outcome:
        inst_id, _kind = self._institution_of(row)
        values = _product_values(row)
        values["institution_id"] = inst_id
        return upsert_keyed(self.offers, (inst_id, values["name"]), values, inst_id)

    def _mandates(self, row: ParsedRow) -> Outcome:
        inst_id, _kind = self._institution_of(row)
        values = _mandate_values(row)
        values["institution_id"] = inst_id
        return upsert_keyed(self.offers, (inst_id, values["name"]), values, inst_id)

    def _deals(self, row: ParsedRow) -> Outcome:
        assert self.index is not None
        inst_id, inst_kind = self._institution_of(row)
        v = row.values
        found = self.index.resolve(v.get("uscc"), v.get("legal_name"))
        if found.entity_id is None:
            column = _column(row, "legal_name") or _column(row, "uscc")
            raise RowRejected(
                Problem(
                    column,
                    v.get("legal_name") or v.get("uscc"),
                    "企业不在企业库中，请先导入企业信息",
                )
            )
        deal_type = v.get("deal_type") or (
            DealType.loan if inst_kind is InstitutionKind.bank else DealType.equity
        )
        values = {"deal_type": deal_type, "amount_wan": v["amount"][0], "closed_on": v["closed_on"],
                  "enterprise_id": found.entity_id, "institution_id": inst_id, "note": v.get("note")}  # fmt: skip
        return upsert_keyed(self.deals, _deal_key(values), values, found.entity_id)

    # -- events ------------------------------------------------------------------------------

    def _events(self, row: ParsedRow) -> Outcome:
        v = row.values
        event_id = self._event_for(row)
        organisation = v.get("organisation")
        values: dict[str, Any] = {
            "event_id": event_id,
            "person_key": _person_key(v),
            "person_name": v["person_name"],
        }
        if organisation:
            values.update(self._party_of(organisation))
        if isinstance(v.get("checked_in_at"), date):
            values["checked_in_at"] = datetime.combine(v["checked_in_at"], time(9), center_zone())
        return upsert_keyed(self.attendance, (event_id, values["person_key"]), values, event_id)

    def _event_for(self, row: ParsedRow) -> int:
        v = row.values
        title, day = v["event_title"], v["event_date"]
        existing = self.events.find((title, day))
        if existing is not None:
            return existing
        kind = v.get("event_kind") or _event_kind_from_title(title)
        if kind is None:
            raise RowRejected(
                Problem(
                    _column(row, "event_kind") or "活动类型",
                    None,
                    "无法判断活动类型（路演或培训），请填写“活动类型”",
                )
            )
        self._bump("events_inserted")
        return self.events.insert({
            "kind": kind, "title": title, "venue": v.get("venue"), "topic": v.get("topic"),
            "starts_at": datetime.combine(day, time(9), center_zone()).astimezone(UTC),
            "ends_at": datetime.combine(day, time(17), center_zone()).astimezone(UTC),
        })  # fmt: skip

    def _party_of(self, organisation: str) -> dict[str, int]:
        assert self.index is not None and self.institutions is not None
        inst = self.institutions.find(organisation)
        if inst is not None:
            return {"institution_id": inst[0]}
        found = self.index.resolve(None, organisation)
        if found.entity_id is not None and found.entity_id > 0:
            return {"enterprise_id": found.entity_id}
        return {}


#: Outcome of a row's enterprise → its counter in `related` (enum `.value` is slow to read).
_ENTERPRISE_COUNTER = {outcome: f"enterprises_{outcome.value}" for outcome in ImportOutcome}
_SETUP = {
    ImportKind.enterprises: "enterprise_based", ImportKind.demands: "enterprise_based",
    ImportKind.listing: "enterprise_based", ImportKind.institutions: "institution_based",
    ImportKind.products: "institution_based", ImportKind.mandates: "institution_based",
    ImportKind.deals: "institution_based", ImportKind.events: "events",
}  # fmt: skip


def _column(row: ParsedRow, field: str) -> str:
    return row.columns.get(field, field)


def _compared_columns(rows: list[ParsedRow]) -> list[str]:
    """The enterprise columns these rows may set (`upsert_enterprise`): only those are read."""
    fields = set().union(*(row.values.keys() for row in rows))
    return [ENTERPRISE_COLUMNS[f] for f in sorted(fields) if f in ENTERPRISE_COLUMNS] + [
        "legal_name", "uscc", "normalized_name", "region_code",
    ] + (["sei_category"] if "industry" in fields else [])  # fmt: skip


def _split_industry(values: dict[str, Any]) -> None:
    """The row's `IndustryTerm` as the enterprise's 大类 code and 战略性新兴产业 category."""
    term = values.pop("industry_code")
    if term.code:
        values["industry_code"] = term.code
    if term.sei:
        values["sei_category"] = term.sei


def _contact_keys(row: dict[str, Any]) -> list[Hashable]:
    return [(row["enterprise_id"], row["name"])]


def _brand_problem(row: ParsedRow, brand: str, names: list[str]) -> Problem:
    """Why a row named by a brand is held: the enterprises it may mean (five at most)."""
    shown = "、".join(names[:5]) + (f"等 {len(names)} 家" if len(names) > 5 else "")
    if len(names) == 1:
        rule = f"简称/品牌只出现在本地区企业“{shown}”名称的中间，不能确定是同一企业"
    else:
        rule = f"简称/品牌在本地区对应多家企业（{shown}）"
    return Problem(_column(row, "legal_name"), brand,
                   rule + "，本行未导入，待人工复核：请改填企业全称或统一社会信用代码")  # fmt: skip


#: Enterprise columns an import works out rather than reads: not part of a change set.
_DERIVED = frozenset({"normalized_name"})


def _held_demand(row: ParsedRow, message: str) -> Problem:
    column = _column(row, "financing_type")
    return Problem(column, row.raw.get(column), message)


def _range_of(values: dict[str, Any]) -> tuple[str, float, float]:
    kind = str(values["financing_type"])
    return kind, float(values["amount_min_wan"]), float(values["amount_max_wan"])


def _brand_row(ent_id: int, row: dict[str, Any]) -> tuple[int, str, str, str | None, str | None]:
    """What `BrandIndex.add` takes, from an enterprise row this batch inserted."""
    uscc = row.get("uscc")
    region = row.get("region_code") or (uscc[2:8] if uscc else None)
    return ent_id, row["legal_name"], row["normalized_name"], row.get("short_name"), region


def _add_region(values: dict[str, Any], v: dict[str, Any]) -> None:
    """Set the enterprise's region: its 区域/地址 column, else the USCC's, else the name's."""
    region = v.get("region") or v.get("address")
    if region is None and v.get("uscc"):
        code = v["uscc"][2:8]
        region = code if code.isdigit() and not code.startswith("00") else None
    if region is None and v.get("legal_name"):
        region = region_of_name(v["legal_name"])
    if region:
        values["region_code"] = region


def _demand_values(row: ParsedRow) -> dict[str, Any]:
    v = row.values
    low, high = v.get("amount") or (v.get("amount_min"), v.get("amount_max"))
    low, high = (low if low is not None else high), (high if high is not None else low)
    if low is None or high is None or high <= 0:
        raise RowRejected(Problem(_column(row, "amount"), None, "拟融资金额应大于0"))
    if low > high:
        raise RowRejected(Problem(_column(row, "amount_min"), low, "融资金额下限大于上限"))
    values = _pick(v, DEMAND_COLUMNS)
    values["amount_min_wan"], values["amount_max_wan"] = low, high
    return values


def _demand_keys(row: dict[str, Any]) -> list[Hashable]:
    # A numbered demand is found by its number only; an unnumbered row must not land on it.
    keys: list[Hashable] = []
    if row.get("source_ref"):
        keys.append(("ref", row["enterprise_id"], row["source_ref"]))
    elif row.get("status") is None or DemandStatus(row["status"]).is_open_for_matching:
        keys.append(("type", row["enterprise_id"], str(row["financing_type"])))
    return keys


def _demand_refs_and_types(rows: list[ParsedRow]) -> tuple[set[str], set[str]]:
    """The 需求编号 of a chunk's rows, and the 融资方式 of its rows without one.

    Only saved demands with one of those numbers, or unnumbered ones, can be what a row of the
    chunk lands on (`_demand_key`), whichever enterprise the row resolves to.
    """
    refs, types = set(), set()
    for row in rows:
        ref = row.values.get("source_ref")
        if ref:
            refs.add(ref)
        elif "financing_type" in row.values:
            types.add(str(row.values["financing_type"]))
    return refs, types


def _demand_keys_wanted(
    known: Iterable[Hashable], refs: set[str], types: set[str]
) -> list[Hashable]:
    """The saved demand keys whose whole rows the chunk may compare with."""
    return [
        key
        for key in known
        if isinstance(key, tuple) and key[2] in (refs if key[0] == "ref" else types)
    ]


def _demand_key(ent_id: int, values: dict[str, Any]) -> Hashable:
    if values.get("source_ref"):
        return ("ref", ent_id, values["source_ref"])
    return ("type", ent_id, str(values["financing_type"]))


def _range_pair(v: dict[str, Any], both: str, low: str, high: str) -> tuple[Any, Any]:
    pair = v.get(both)
    lo, hi = pair if pair else (v.get(low), v.get(high))
    return (lo if lo is not None else 0.0), (hi if hi is not None else lo)


def _product_values(row: ParsedRow) -> dict[str, Any]:
    v = row.values
    low, high = _range_pair(v, "amount", "min_amount", "max_amount")
    values = {"name": v["product_name"], "min_amount_wan": low, "max_amount_wan": high}
    if "term" in v:
        values["min_term_months"], values["max_term_months"] = (int(x) for x in v["term"])
    if "rate" in v:
        values["rate_min_pct"], values["rate_max_pct"] = v["rate"]
    values |= _pick(v, {"collateral": "collateral_accepted", "required_qualifications": "required_qualifications",
                        "min_years_operating": "min_years_operating", "min_revenue": "min_revenue_wan",
                        "sectors": "sectors", "regions": "regions"})  # fmt: skip
    _check_offer(row, values, "min_amount_wan", "max_amount_wan")
    return values


def _mandate_values(row: ParsedRow) -> dict[str, Any]:
    v = row.values
    low, high = _range_pair(v, "ticket", "min_ticket", "max_ticket")
    values = {"name": v["mandate_name"], "min_ticket_wan": low, "max_ticket_wan": high}
    values |= _pick(v, {"stages": "stages", "sectors": "sectors", "regions": "regions",
                        "fund_size": "fund_size_wan", "remaining_capacity": "remaining_capacity_wan",
                        "sei_categories": "sei_categories"})  # fmt: skip
    _check_offer(row, values, "min_ticket_wan", "max_ticket_wan")
    return values


def _check_offer(row: ParsedRow, values: dict[str, Any], low: str, high: str) -> None:
    if values[high] is None or values[low] > values[high]:
        raise RowRejected(
            Problem(_column(row, "amount"), values[low], "金额下限大于上限或上限缺失")
        )
    rate_min, rate_max = values.get("rate_min_pct"), values.get("rate_max_pct")
    if rate_min is not None and not 0 <= rate_min <= (rate_max or 36) <= 36:
        raise RowRejected(
            Problem(_column(row, "rate"), rate_min, "年利率应在0%至36%之间且下限不大于上限")
        )
    terms = values.get("min_term_months"), values.get("max_term_months")
    if terms[0] is not None and not 1 <= terms[0] <= terms[1]:
        raise RowRejected(
            Problem(_column(row, "term"), terms[0], "期限应至少1个月且下限不大于上限")
        )


def _deal_keys(row: dict[str, Any]) -> list[Hashable]:
    return [_deal_key(row)]


def _deal_key(row: dict[str, Any]) -> Hashable:
    return (row["enterprise_id"], row["institution_id"], str(row["deal_type"]), row["closed_on"])


def _event_keys(row: dict[str, Any]) -> list[Hashable]:
    starts: datetime = row["starts_at"]
    if starts.tzinfo is None:
        starts = starts.replace(tzinfo=UTC)
    return [(row["title"], center_date(starts))]


def _event_kind_from_title(title: str) -> EventKind | None:
    if "路演" in title:
        return EventKind.roadshow
    if "培训" in title or "讲座" in title or "课程" in title:
        return EventKind.training
    return None


def _person_key(v: dict[str, Any]) -> str:
    phone = "".join(ch for ch in str(v.get("phone") or "") if ch.isdigit())
    if len(phone) >= 7:
        return "tel:" + hashlib.sha256(phone.encode()).hexdigest()[:24]
    return f"{v['person_name']}|{v.get('organisation') or ''}"[:120]
