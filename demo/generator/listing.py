"""Listing cultivation (挂牌上市培育库): the strongest enterprises, their tiers and milestones."""

from datetime import date, timedelta

from demo.generator.context import GenContext, new_row
from demo.generator.enterprises import Population
from demo.generator.institutions import Registry
from models.enterprise import Enterprise
from models.institution import Institution
from models.listing import ListingMilestone, ListingRecord, ListingTierChange
from models.reference import Board, InstitutionKind, Stage
from models.reference import ListingMilestoneKind as M
from models.reference import ListingTier as T

Step = T | M  # a tier entered or a milestone reached
_EXCHANGES = (Board.main, Board.chinext, Board.star, Board.bse)
# The road to each kind of market, as (tier entered | milestone reached) in order.
_EXCHANGE_ROAD: tuple[Step, ...] = (
    T.reserve, T.cultivation, M.shareholding_reform, T.coaching, M.coaching_filing, T.filing,
    M.application_accepted, M.inquiry, M.committee_review, M.registration, T.listed, M.listed,
)  # fmt: skip
_QUOTATION_ROAD: tuple[Step, ...] = (
    T.reserve, T.cultivation, M.shareholding_reform, T.coaching, T.filing,
    M.application_accepted, T.listed, M.listed,
)  # fmt: skip
# Boards on which cultivated enterprises end up listed or quoted, and how many of each per 150.
_LISTED_MIX: tuple[tuple[Board, int], ...] = (
    (Board.star, 4), (Board.chinext, 4), (Board.main, 1), (Board.bse, 3),
    (Board.neeq_innovation, 4), (Board.neeq_basic, 5), (Board.regional, 6),
)  # fmt: skip
_CURRENT_TIERS = ((T.reserve, 0.3), (T.cultivation, 0.3), (T.coaching, 0.25), (T.filing, 0.15))
_STRONG_STAGES = (Stage.growth, Stage.expansion, Stage.mature, Stage.pre_ipo)


def generate_listing(
    ctx: GenContext, population: Population, registry: Registry
) -> list[ListingRecord]:
    """Insert cultivation records for ~7.5 % of enterprises (the strongest) and return them."""
    count = max(10, round(len(population.enterprises) * 0.075))
    strong = [e for e in population.by_strength() if e.stage in _STRONG_STAGES][:count]
    listed_boards = _listed_boards(ctx, count)
    sponsors = registry.of_kind(InstitutionKind.securities)
    records, roads = [], []
    for i, enterprise in enumerate(strong):
        listed = listed_boards[i] if i < len(listed_boards) else None
        target = listed or _target_board(ctx, enterprise)
        road = _road(ctx, target, listed is not None)
        records.append(_record(ctx, enterprise, target, road, sponsors))
        roads.append(road)
    ctx.stream(records)
    ctx.stream([c for r, road in zip(records, roads, strict=True) for c in _tiers(r, road)])
    ctx.stream([m for r, road in zip(records, roads, strict=True) for m in _milestones(r, road)])
    return records


def _listed_boards(ctx: GenContext, count: int) -> list[Board]:
    """Boards of the records that have listed; shuffled, so not only the very strongest list."""
    boards = [b for b, n in _LISTED_MIX for _ in range(max(1, round(n * count / 150)))]
    ctx.rng.shuffle(boards)
    return boards


def _target_board(ctx: GenContext, e: Enterprise) -> Board:
    if e.stage in (Stage.mature, Stage.pre_ipo):
        return ctx.weighted([(Board.star, 0.4), (Board.chinext, 0.35), (Board.main, 0.1),
                             (Board.bse, 0.15)])  # fmt: skip
    return ctx.weighted([(Board.bse, 0.3), (Board.neeq_innovation, 0.25),
                         (Board.neeq_basic, 0.2), (Board.regional, 0.25)])  # fmt: skip


Road = list[tuple[Step, date]]


def _road(ctx: GenContext, target: Board, listed: bool) -> Road:
    """The steps taken so far, on strictly increasing days, the last one before today."""
    steps = list(_EXCHANGE_ROAD if target in _EXCHANGES else _QUOTATION_ROAD)
    if not listed:
        tier = ctx.weighted(list(_CURRENT_TIERS))
        steps = steps[: steps.index(tier) + 1] + _reached_in_tier(ctx, steps, tier)
    end = ctx.today - timedelta(days=ctx.rng.randint(5, 700 if listed else 90))
    if len(steps) == 1:
        return [(steps[0], end)]
    start = end - timedelta(days=ctx.rng.randint(60 * len(steps), 150 * len(steps)))
    offsets = sorted(ctx.rng.sample(range(1, (end - start).days), len(steps) - 2))
    days = [start, *(start + timedelta(days=o) for o in offsets), end]
    road = list(zip(steps, days, strict=True))
    if listed:  # entering the listed tier is the listing day itself
        road[-2] = (T.listed, end)
    return road


def _reached_in_tier(ctx: GenContext, steps: list[Step], tier: T) -> list[Step]:
    """Milestones already reached in the current tier (e.g. 申报受理 and 问询 while filing)."""
    reached: list[Step] = []
    for step in steps[steps.index(tier) + 1 :]:
        if isinstance(step, T):
            break
        reached.append(step)
    return reached[: ctx.rng.randint(1 if tier == T.filing else 0, len(reached))]


def _record(
    ctx: GenContext, e: Enterprise, target: Board, road: Road, sponsors: list[Institution]
) -> ListingRecord:
    assert e.id is not None
    listed_on = road[-1][1] if road[-1][0] is M.listed else None
    sponsor = ctx.rng.choice(sponsors) if sponsors and ctx.chance(0.8) else None
    return new_row(
        ListingRecord,
        enterprise_id=e.id,
        target_board=target,
        tier=[s for s, _ in road if isinstance(s, T)][-1],
        coaching_started_on=road[0][1],
        sponsor_institution_id=sponsor.id if sponsor is not None else None,
        listed_board=target if listed_on else None,
        listed_on=listed_on,
        estimated_market_value_wan=round((e.revenue_wan or 1000) * ctx.rng.uniform(2, 10), -2),
        created_at=ctx.at(road[0][1]),
    )


def _tiers(record: ListingRecord, road: Road) -> list[ListingTierChange]:
    assert record.id is not None
    return [
        new_row(
            ListingTierChange,
            listing_record_id=record.id,
            tier=step,
            entered_on=day,
            note=step.label,
        )
        for step, day in road
        if isinstance(step, T)
    ]


def _milestones(record: ListingRecord, road: Road) -> list[ListingMilestone]:
    assert record.id is not None
    return [
        new_row(
            ListingMilestone,
            listing_record_id=record.id,
            kind=step,
            occurred_on=day,
            board=record.target_board,
            note=f"{step.label}（{record.target_board.label}）",
        )
        for step, day in road
        if isinstance(step, M)
    ]
