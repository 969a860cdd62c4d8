"""Deal-flow digests: build one per subscription and period, then deliver it exactly once.

`run_digest_period` builds, for every active subscription of the period's frequency, the demands
that are new or changed since its last *delivered* digest, ranked by fit, and records one
`DigestDelivery` per (subscription, period) — the unique key makes a second dispatcher a no-op.
`deliver` claims a delivery, sends it and records the outcome inside one transaction, so a
killed worker leaves the row claimable. The receiver-facing idempotency key (delivery id) covers
the one window left: sent, but not yet committed. docs/workers.md walks through every window.

Services never commit: the Celery task or the CLI command around them does.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from models import DigestDelivery, Enterprise, FinancingDemand, Institution, Subscription
from models.clock import center_date
from models.errors import ConflictError, NotFoundError
from models.reference import (
    Channel,
    Confidentiality,
    DeliveryStatus,
    FinancingType,
    canonical_industry_code,
)
from models.settings import Settings, get_settings
from services.audit.repository import append_audit
from services.digests import repository as repo
from services.digests.checks import normalize_email
from services.digests.delivery import (
    DeliveryError,
    Digest,
    Mailer,
    PermanentDeliveryError,
    Teaser,
    WebhookSender,
    build_digest_mail,
    digest_payload,
)
from services.disclosure.service import teaser
from services.jobs import enqueue
from services.recommendations.service import rank_demands_for_institutions, served_ranker

DELIVER_TASK = "digests.deliver"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DigestPolicy:
    """The knobs of building and delivering digests (from settings; tests pass their own)."""

    max_items: int = 20
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 1800.0
    claim_lock_timeout: float = 5.0
    claim_idle_timeout: float = 120.0
    mail_from: str = "matchmaker@center.example"
    mail_domain: str = "center.example"
    rank_with_core: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> "DigestPolicy":
        """The policy the running service uses."""
        return cls(
            max_items=settings.digest_max_items,
            max_attempts=settings.digest_max_attempts,
            retry_base_seconds=settings.digest_retry_base_seconds,
            retry_max_seconds=settings.digest_retry_max_seconds,
            claim_lock_timeout=settings.digest_claim_lock_timeout,
            claim_idle_timeout=settings.celery_hard_time_limit + settings.digest_send_timeout,
            mail_from=settings.mail_from,
            mail_domain=settings.mail_domain,
            rank_with_core=settings.digest_rank_with_core,
        )

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): base · 2^(attempt-1), capped."""
        return float(min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class PeriodReport:
    """What one run of a period did."""

    period: str
    frequency: str
    subscriptions: int
    created: int
    already_existing: int
    empty: int
    delivery_ids: list[int] = field(default_factory=list)
    paused: int = 0


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery attempt did; `retry_in` is set when a transient failure is retried."""

    delivery_id: int
    status: DeliveryStatus
    claimed: bool
    retry_in: float | None = None
    message: str = ""


# --- Periods


def period_key(frequency: str, now: datetime) -> str:
    """The period a run at `now` belongs to, in Beijing time: 2024-03-01, 2024-W09 or 2024-03."""
    day = center_date(_utc(now))
    if frequency == "daily":
        return day.isoformat()
    if frequency == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "monthly":
        return f"{day.year}-{day.month:02d}"
    raise ConflictError(f"未知的推送频率“{frequency}”，应为 daily、weekly 或 monthly")


def frequency_of(period: str) -> str:
    """The frequency a period key names ('2024-03-01' daily, '2024-W09' weekly, '2024-03')."""
    try:
        if "-W" in period:
            date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
            return "weekly"
        if len(period) == 7:
            date.fromisoformat(period + "-01")
            return "monthly"
        date.fromisoformat(period)
        return "daily"
    except ValueError as exc:
        raise ConflictError(
            f"周期“{period}”格式无效，应为 2024-03-01、2024-W09 或 2024-03"
        ) from exc


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back naive; every stored timestamp is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- Fit and ranking (the swap point for the matching core)


def _type_fit(sub: Subscription, demand: FinancingDemand) -> float | None:
    """A mixed demand (投贷联动) has a loan leg and an equity leg, so it reaches loan and equity
    subscribers too; a pure loan or pure equity demand reaches only subscribers of its own type
    (a loan + 投贷联动 subscription never receives a pure equity demand)."""
    wanted = set(sub.financing_types)
    if not wanted:
        return 0.0
    kind = FinancingType(demand.financing_type).value
    if kind in wanted:
        return 1.0
    if kind == FinancingType.mixed.value and wanted & {"loan", "equity"}:
        return 0.5
    return None


def _amount_fit(sub: Subscription, demand: FinancingDemand) -> float | None:
    if sub.min_amount_wan is None and sub.max_amount_wan is None:
        return 0.0
    if sub.max_amount_wan is not None and demand.amount_min_wan > sub.max_amount_wan:
        return None
    if sub.min_amount_wan is not None and demand.amount_max_wan < sub.min_amount_wan:
        return None
    return 1.0


def _sector_score(wanted: str, ent: Enterprise) -> float:
    if wanted.isdigit() and len(wanted) == 1:  # 战略性新兴产业 category
        return 1.0 if (ent.sei_category or "").split(".")[0] == wanted else 0.0
    code = canonical_industry_code(ent.industry_code or "")
    prefix = canonical_industry_code(wanted)
    if not code or not prefix or not code.startswith(prefix):
        return 0.0
    return 1.0 if len(prefix) > 1 else 0.5


def _sector_fit(sub: Subscription, ent: Enterprise) -> float | None:
    if not sub.sectors:
        return 0.0
    best = max(_sector_score(s, ent) for s in sub.sectors)
    return best or None


def _stage_fit(sub: Subscription, demand: FinancingDemand, ent: Enterprise) -> float | None:
    if not sub.stages:
        return 0.0
    stage = demand.round_stage or ent.stage
    return 1.0 if stage is not None and stage.value in sub.stages else None


def _region_fit(sub: Subscription, ent: Enterprise) -> float | None:
    if not sub.regions:
        return 0.0
    code = ent.region_code or ""
    return 1.0 if any(code.startswith(p) for p in sub.regions if p) else None


def criteria_fit(sub: Subscription, demand: FinancingDemand, ent: Enterprise) -> float | None:
    """None when a demand misses one of the subscription's criteria, else how many it meets."""
    parts = (
        _type_fit(sub, demand),
        _amount_fit(sub, demand),
        _sector_fit(sub, ent),
        _stage_fit(sub, demand, ent),
        _region_fit(sub, ent),
    )
    if any(p is None for p in parts):
        return None
    return float(sum(p for p in parts if p is not None))


Fitting = list[tuple[float, FinancingDemand]]


def criteria_order(fitting: Fitting) -> list[int]:
    """Demand ids by criteria fit, then most recently changed, then id."""
    order = sorted(fitting, key=lambda p: (-p[0], -_utc(p[1].updated_at).timestamp(), p[1].id))
    return [d.id for _, d in order if d.id is not None]


def _core_positions(
    session: Session, wanted: dict[int, set[int]]
) -> tuple[str, dict[int, dict[int, int]]]:
    """The served model's version and each institution's place for each demand in the core's
    order (the demands of all institutions scored at once: an institution's order among its own
    is the same)."""
    model = served_ranker(session)
    ranked = rank_demands_for_institutions(
        session, list(wanted), sorted(set().union(*wanted.values())), model=model
    )
    places = {i: {int(d): n for n, d in enumerate(ids)} for i, (ids, _) in ranked.items()}
    return model.model_version, places


@dataclass(frozen=True)
class RankedDigests:
    """Each subscription's demand ids best first, and the model that ordered them (None:
    criteria fit alone)."""

    orders: list[list[int]]
    model_version: str | None


def rank_digests(
    session: Session, fitting: Sequence[tuple[Subscription, Fitting]], use_core: bool = True
) -> RankedDigests:
    """Each subscription's demand ids best first (one list per input pair, same order).

    With `use_core`, the matching core orders them with the served model
    (`rank_demands_for_institutions`, once per run); demands the core says the institution
    cannot serve follow, in criteria order: the subscriber asked for them by its own criteria.
    Without it, criteria fit alone orders them.
    """
    orders = [criteria_order(f) for _, f in fitting]
    wanted: dict[int, set[int]] = {}
    for (sub, _), order in zip(fitting, orders, strict=True):
        wanted.setdefault(sub.institution_id, set()).update(order)
    version, core = _core_positions(session, wanted) if use_core and wanted else (None, {})
    ranked = []
    for (sub, _), order in zip(fitting, orders, strict=True):
        pos = core.get(sub.institution_id, {})
        ranked.append(sorted(order, key=lambda d: pos.get(d, len(pos))))  # stable: ties keep order
    return RankedDigests(ranked, version)


# --- Building a period

Candidates = Sequence[tuple[FinancingDemand, Enterprise]]


def _fitting(
    sub: Subscription, candidates: Candidates, since: datetime | None, funded: set[int]
) -> Fitting:
    fitting = []
    for demand, ent in candidates:
        if since is not None and _utc(demand.updated_at) <= _utc(since):
            continue
        if demand.id in funded:  # the institution has already lent or invested
            continue
        fit = criteria_fit(sub, demand, ent)
        if fit is not None:
            fitting.append((fit, demand))
    return fitting


def _delivery_row(
    sub: Subscription, period: str, ids: list[int], now: datetime, model_version: str | None
) -> dict[str, Any]:
    return {
        "subscription_id": sub.id,
        "period": period,
        "channel": sub.channel,
        "status": DeliveryStatus.pending,
        "item_count": len(ids),
        "demand_ids": ids,
        "attempts": 0,
        "model_version": model_version,
        "created_at": now,
    }


def _build_rows(
    session: Session, subs: Sequence[Subscription], period: str, now: datetime, policy: DigestPolicy
) -> list[dict[str, Any]]:
    marks = repo.last_delivered_at(session, [s.id for s in subs if s.id is not None])
    oldest = None if len(marks) < len(subs) else min(marks.values(), default=None)
    candidates = repo.teaser_candidates(session, oldest, now)
    funded = repo.funded_demands(
        session, {s.institution_id for s in subs}, [d for d, _ in candidates]
    )
    fitting = [
        (s, _fitting(s, candidates, marks.get(s.id or 0), funded.get(s.institution_id, set())))
        for s in subs
    ]
    fitting = [(s, f) for s, f in fitting if f]
    ranked = rank_digests(session, fitting, policy.rank_with_core)
    return [
        _delivery_row(sub, period, ids[: policy.max_items], now, ranked.model_version)
        for (sub, _), ids in zip(fitting, ranked.orders, strict=True)
    ]


# --- Residency: only institutions with a resident agreement in force are served


def _pause_reason(inst: Institution, day: date) -> str | None:
    """Why an institution is not served on `day` (None: its agreement is in force)."""
    if inst.is_resident_on(day):
        return None
    if inst.agreement_start is None:
        return "未登记入驻协议，暂停推送"
    if inst.agreement_start > day:
        return f"入驻协议自 {inst.agreement_start.isoformat()} 起生效，生效前暂停推送"
    assert inst.agreement_end is not None
    return f"入驻协议已于 {inst.agreement_end.isoformat()} 到期，暂停推送"


def servable(
    session: Session, subs: Sequence[Subscription], day: date
) -> tuple[list[Subscription], dict[int, str | None]]:
    """The subscriptions whose institution is resident on `day`, and for every subscription
    whose pause changes, its new reason (None: resumes). Nothing is written."""
    institutions = repo.institutions_by_id(session, {s.institution_id for s in subs})
    serve, changes = [], {}
    for sub in subs:
        reason = _pause_reason(institutions[sub.institution_id], day)
        if reason != sub.paused_reason and sub.id is not None:
            changes[sub.id] = reason
        if reason is None:
            serve.append(sub)
    return serve, changes


def _record_pauses(
    session: Session, subs: Sequence[Subscription], changes: dict[int, str | None]
) -> None:
    for sub in subs:
        if sub.id not in changes:
            continue
        sub.paused_reason = changes[sub.id]
        session.add(sub)
        append_audit(session, actor="system", action="resume" if sub.paused_reason is None
                     else "pause", entity="subscription", entity_id=sub.id,
                     detail={"reason": sub.paused_reason})  # fmt: skip
    session.flush()


def run_digest_period(
    session: Session, period: str, now: datetime, policy: DigestPolicy | None = None
) -> PeriodReport:
    """Record one delivery per active subscription of the period's frequency, and queue it.

    Subscriptions with a delivery for `period` already are skipped, and so are those with
    nothing new (no empty digests). Safe to run twice or concurrently: the unique key
    (subscription_id, period) lets exactly one run create each row, and only that run
    queues its delivery (published after commit).
    """
    policy = policy or DigestPolicy.from_settings(get_settings())
    frequency, now = frequency_of(period), _utc(now)
    subs = repo.active_subscriptions(session, frequency)
    serve, changes = servable(session, subs, center_date(now))
    _record_pauses(session, subs, changes)
    done = repo.subscriptions_with_delivery(session, period)
    todo = [s for s in serve if s.id not in done]
    rows = _build_rows(session, todo, period, now, policy)
    created = repo.insert_deliveries(session, rows)
    ids = sorted(created.values())
    for delivery_id in ids:
        enqueue(session, DELIVER_TASK, delivery_id)
    existing = len(done & {s.id for s in serve}) + len(rows) - len(created)
    return PeriodReport(
        period, frequency, len(serve), len(ids), existing, len(todo) - len(rows), ids,
        paused=len(subs) - len(serve),
    )  # fmt: skip


def run_current_period(session: Session, frequency: str, now: datetime) -> PeriodReport:
    """What the beat schedule runs: the period `now` falls in, for one frequency."""
    return run_digest_period(session, period_key(frequency, now), now)


# --- What a period's digests hold (the `export digest-items` contract)


@dataclass(frozen=True)
class DigestItem:
    """One demand in one subscription's digest of a period."""

    subscription_id: int
    institution_id: int
    demand_id: int
    financing_type: str


def _items_of(
    session: Session, digests: list[tuple[Subscription, list[int], bool]]
) -> list[DigestItem]:
    found = repo.demands_by_id(session, sorted({d for _, ids, _ in digests for d in ids}))
    return [
        DigestItem(sub.id or 0, sub.institution_id, d, found[d][0].financing_type.value)
        for sub, ids, sent in digests
        for d in ids
        if d in found and (sent or _still_shareable(found[d][0]))
    ]


def digest_items(
    session: Session, period: str, now: datetime, policy: DigestPolicy | None = None
) -> list[DigestItem]:
    """What the digests of `period` contained or would contain, one row per demand.

    A delivered digest gives what was sent; a pending or failed one what it would send now
    (demands closed or made confidential since drop out); an active, served subscription with
    no digest of the period yet, what a run now would put in it. Nothing is written.
    """
    policy = policy or DigestPolicy.from_settings(get_settings())
    now = _utc(now)
    recorded = repo.deliveries_of_period(session, period)
    have = {sub.id for _, sub in recorded}
    subs = repo.active_subscriptions(session, frequency_of(period))
    serve, _ = servable(session, subs, center_date(now))
    todo = {s.id: s for s in serve if s.id not in have}
    rows = _build_rows(session, list(todo.values()), period, now, policy)
    digests = [
        (sub, list(d.demand_ids), d.status == DeliveryStatus.delivered) for d, sub in recorded
    ]
    digests += [(todo[r["subscription_id"]], r["demand_ids"], False) for r in rows]
    return _items_of(session, digests)


# --- Teasers


def make_teaser(demand: FinancingDemand, ent: Enterprise) -> Teaser:
    """An anonymised teaser: sector, stage, amount band, city, financing type — no identity."""
    assert demand.id is not None
    shown = teaser(demand, ent)  # the one definition of what a teaser may reveal
    return Teaser(
        ref=demand.id,
        sector=shown.sector,
        stage=shown.stage,
        amount_band=shown.amount_band,
        region=shown.region,
        financing_type=shown.financing_type,
        updated_on=center_date(demand.updated_at).isoformat(),
    )


def _still_shareable(demand: FinancingDemand) -> bool:
    return demand.status.is_open_for_matching and (
        demand.confidentiality != Confidentiality.confidential
    )


def build_digest(
    session: Session, delivery: DigestDelivery, sub: Subscription, now: datetime
) -> Digest:
    """The digest of a delivery, re-read now: demands withdrawn or made confidential drop out."""
    assert delivery.id is not None and sub.id is not None
    found = repo.demands_by_id(session, delivery.demand_ids)
    teasers = [
        make_teaser(*found[i])
        for i in delivery.demand_ids
        if i in found and _still_shareable(found[i][0])
    ]
    return Digest(delivery.id, sub.id, sub.name, delivery.period, now, teasers)


# --- Delivering


def _address(sub: Subscription) -> str:
    """The subscription's one checked address; a permanent failure for anything else (data
    written before the checks, or by a path that skipped them)."""
    if not sub.email:
        raise PermanentDeliveryError("订阅未设置接收邮箱")
    if not sub.email_confirmed:
        raise PermanentDeliveryError("接收邮箱尚未确认，未发送")
    try:
        return normalize_email(sub.email)
    except ValueError as exc:
        raise PermanentDeliveryError(f"接收邮箱无效：{exc}") from exc


def _send(
    digest: Digest, sub: Subscription, mailer: Mailer, webhooks: WebhookSender, policy: DigestPolicy
) -> None:
    if sub.channel == Channel.webhook:
        if not sub.webhook_url or not sub.webhook_secret:
            raise PermanentDeliveryError("订阅未设置 Webhook 地址或签名密钥")
        webhooks.post(
            sub.webhook_url, sub.webhook_secret, digest_payload(digest), digest.idempotency_key
        )
        return
    to = _address(sub)
    mailer.send(
        build_digest_mail(digest, to=to, mail_from=policy.mail_from, domain=policy.mail_domain)
    )


def _record_failure(
    session: Session, delivery: DigestDelivery, error: DeliveryError, policy: DigestPolicy
) -> DeliveryOutcome:
    assert delivery.id is not None
    retry = error.transient and delivery.attempts < policy.max_attempts
    delivery.status = DeliveryStatus.failed if retry else DeliveryStatus.dead
    delivery.last_error = error.message[:500]
    session.add(delivery)
    session.flush()
    retry_in = policy.backoff(delivery.attempts) if retry else None
    return DeliveryOutcome(delivery.id, delivery.status, True, retry_in, error.message)


def _record_success(
    session: Session, delivery: DigestDelivery, digest: Digest, note: str | None = None
) -> DeliveryOutcome:
    assert delivery.id is not None
    delivery.status = DeliveryStatus.delivered
    delivery.delivered_at = digest.generated_at
    delivery.item_count = len(digest.teasers)
    delivery.demand_ids = [t.ref for t in digest.teasers]
    delivery.last_error = note
    session.add(delivery)
    session.flush()
    return DeliveryOutcome(delivery.id, delivery.status, True, None, note or "已送达")


def _not_claimed(session: Session, delivery_id: int) -> DeliveryOutcome:
    delivery = session.get(DigestDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        raise NotFoundError(f"推送记录 {delivery_id} 不存在")
    return DeliveryOutcome(delivery_id, delivery.status, False, None, "已由其他进程处理，跳过")


def deliver(
    session: Session,
    delivery_id: int,
    mailer: Mailer,
    webhook_client: WebhookSender,
    clock: Clock,
    policy: DigestPolicy | None = None,
) -> DeliveryOutcome:
    """Claim, send and record one delivery, all in the caller's transaction.

    Already delivered or dead → nothing is sent (`claimed` False). A transient failure leaves
    it `failed` with `retry_in` seconds of backoff until the last attempt, then `dead`; a
    permanent failure is `dead` at once. A crash before the commit rolls the claim back.
    """
    policy = policy or DigestPolicy.from_settings(get_settings())
    repo.bound_claim_waits(session, policy.claim_lock_timeout, policy.claim_idle_timeout)
    delivery = repo.claim_delivery(session, delivery_id)
    if delivery is None:
        return _not_claimed(session, delivery_id)
    sub = session.get(Subscription, delivery.subscription_id)
    assert sub is not None
    if not sub.active:
        return _record_failure(
            session, delivery, PermanentDeliveryError("订阅已停用，未发送"), policy
        )
    inst = session.get(Institution, sub.institution_id)
    assert inst is not None
    reason = _pause_reason(inst, center_date(clock()))
    if reason is not None:
        return _record_failure(session, delivery, PermanentDeliveryError(reason), policy)
    digest = build_digest(session, delivery, sub, _utc(clock()))
    if not digest.teasers:
        return _record_success(session, delivery, digest, "本期项目均已撤回或转为保密，未发送")
    try:
        _send(digest, sub, mailer, webhook_client, policy)
    except DeliveryError as exc:
        return _record_failure(session, delivery, exc, policy)
    except (ValueError, TypeError) as exc:  # data the mail or HTTP library refuses: no retry helps
        error = PermanentDeliveryError(f"推送内容或地址无效：{exc}"[:480])
        return _record_failure(session, delivery, error, policy)
    return _record_success(session, delivery, digest)


# --- Dead letters and the sweeper


def dead_letters(session: Session, limit: int = 500) -> Sequence[DigestDelivery]:
    """Deliveries that gave up, newest first: what an admin reviews and may replay."""
    return repo.dead_deliveries(session, limit)


def replay(session: Session, delivery_id: int, actor: str) -> DigestDelivery:
    """Give a dead delivery a fresh attempt budget and queue it again (audited)."""
    if not repo.reset_dead(session, delivery_id):
        found = session.get(DigestDelivery, delivery_id)
        if found is None:
            raise NotFoundError(f"推送记录 {delivery_id} 不存在")
        raise ConflictError(
            f"推送记录 {delivery_id} 状态为“{found.status.label}”，只能重发已放弃的推送"
        )
    delivery = session.get(DigestDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    append_audit(
        session,
        actor=actor,
        action="digest.replay",
        entity="digest_delivery",
        entity_id=delivery_id,
        detail={"subscription_id": delivery.subscription_id, "period": delivery.period},
    )
    enqueue(session, DELIVER_TASK, delivery_id)
    return delivery


def requeue_unfinished(
    session: Session, now: datetime, older_than_seconds: float, queued: int = 0
) -> list[int]:
    """Queue again the pending or failed deliveries built more than `older_than_seconds` ago.

    Covers messages lost between a commit and its publish, and tasks a broker lost. When the
    broker still holds at least as many messages (`queued`) as there are such deliveries, they
    are most likely waiting there, and nothing is requeued: a backlog is not multiplied.
    Requeueing a delivery that is still in flight is harmless: the claim decides.
    """
    cutoff = _utc(now) - timedelta(seconds=older_than_seconds)
    ids = repo.unfinished_before(session, cutoff)
    if len(ids) <= queued:
        return []
    for delivery_id in ids:
        enqueue(session, DELIVER_TASK, delivery_id)
    return ids
