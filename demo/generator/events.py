"""Roadshows (投融资路演) and trainings (科技金融培训): two years of them, and one to come."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from demo.generator.context import GenContext, utc
from demo.generator.enterprises import Population
from demo.generator.institutions import EQUITY_KINDS, Registry
from demo.generator.names import mobile_phone, person_name
from demo.generator.vocab import ROADSHOW_THEMES, TRAINING_TOPICS
from models.demand import FinancingDemand
from models.event import Attendance, Event, EventParticipant, EventSession
from models.institution import Institution
from models.reference import EventKind, FinancingType, InstitutionKind

_VENUE = "科技金融服务中心（南山区科苑路）"
# Beijing office hours in UTC: morning 09:30–12:00, afternoon 14:00–17:30.
_HALF_DAYS = (((1, 30), (4, 0)), ((6, 0), (9, 30)))
UPCOMING_PRESENTERS, UPCOMING_INVESTORS = 36, 24


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who may sign in at an event."""

    key: str
    name: str
    enterprise_id: int | None = None
    institution_id: int | None = None


def _person_key(phone: str) -> str:
    return "m:" + hashlib.sha256(phone.encode()).hexdigest()[:16]


def generate_events(
    ctx: GenContext, population: Population, registry: Registry, demands: list[FinancingDemand]
) -> None:
    """Insert ~24 past roadshows, ~30 past trainings with attendance, one upcoming roadshow."""
    roadshows = _past_events(ctx, EventKind.roadshow, 24)
    trainings = _past_events(ctx, EventKind.training, 30)
    upcoming = _upcoming_roadshow(ctx)
    events = [*roadshows, *trainings, upcoming]
    ctx.insert(events)
    sessions = [s for e in events for s in _sessions(e)]
    ctx.insert(sessions)
    pitching = [d for d in demands if d.financing_type != FinancingType.loan]
    participants = [p for e in roadshows for p in _past_participants(ctx, e, registry, pitching)]
    ahead = [s.id for s in sessions if s.event_id == upcoming.id]
    participants += _upcoming_participants(ctx, upcoming, ahead, population, registry, demands)
    ctx.insert(participants)
    _insert_attendance(ctx, population, registry, roadshows, trainings, participants)


def _insert_attendance(
    ctx: GenContext,
    population: Population,
    registry: Registry,
    roadshows: list[Event],
    trainings: list[Event],
    participants: list[EventParticipant],
) -> None:
    people = [
        Person(_person_key(c.phone or c.name), c.name, enterprise_id=c.enterprise_id)
        for contacts in population.contacts.values()
        for c in contacts
    ]
    staff = {
        inst_id: [Person(_person_key(phone), name, institution_id=inst_id) for name, phone in team]
        for inst_id, team in registry.staff.items()
    }
    regulars = ctx.rng.sample(people, min(len(people), 150))  # they come to many trainings
    rows = [a for e in roadshows for a in _roadshow_attendance(ctx, e, participants, people, staff)]
    rows += [a for e in trainings for a in _training_attendance(ctx, e, people, regulars, staff)]
    ctx.insert(rows)


def _past_events(ctx: GenContext, kind: EventKind, count: int) -> list[Event]:
    """`count` events spread evenly over the history, numbered 第n期 within each year."""
    spacing = (ctx.today - ctx.history_start).days // count
    per_year: dict[int, int] = {}
    events = []
    for i in range(count):
        day = ctx.history_start + timedelta(days=i * spacing + ctx.rng.randint(1, spacing - 2))
        per_year[day.year] = per_year.get(day.year, 0) + 1
        events.append(_past_event(ctx, kind, day, per_year[day.year]))
    return events


def _past_event(ctx: GenContext, kind: EventKind, day: date, number: int) -> Event:
    roadshow = kind == EventKind.roadshow
    full_day = ctx.chance(0.4 if roadshow else 0.2)
    morning, afternoon = _HALF_DAYS
    topic = None if roadshow else ctx.rng.choice(TRAINING_TOPICS)
    if roadshow:
        title = f"{day.year}年第{number}期科技企业投融资路演·{ctx.rng.choice(ROADSHOW_THEMES)}"
    else:
        title = f"{day.year}年第{number}期科技金融培训：{topic}专题"
    return Event(
        kind=kind,
        title=title,
        starts_at=utc(day, *morning[0]),
        ends_at=utc(day, *(afternoon[1] if full_day else morning[1])),
        venue=_VENUE,
        topic=topic,
        rooms=(["路演A厅", "路演B厅"] if full_day else ["路演厅"]) if roadshow else ["培训室"],
        slots_per_room=ctx.rng.randint(5, 8) if roadshow else 0,
        meeting_tables=ctx.rng.randint(4, 8) if roadshow else 0,
        created_at=utc(day - timedelta(days=30), 2),
    )


def _upcoming_roadshow(ctx: GenContext) -> Event:
    day = ctx.today + timedelta(days=21)
    return Event(
        kind=EventKind.roadshow,
        title=f"{day.year}年科技企业投融资路演周·硬科技与生物医药专场",
        starts_at=utc(day, *_HALF_DAYS[0][0]),
        ends_at=utc(day + timedelta(days=1), *_HALF_DAYS[1][1]),
        venue=_VENUE,
        rooms=["路演A厅", "路演B厅", "路演C厅"],
        slots_per_room=5,
        meeting_tables=12,
        min_contacts_per_enterprise=2,
        created_at=utc(ctx.today - timedelta(days=9), 2),
    )


def _sessions(event: Event) -> list[EventSession]:
    """Half-day sessions covered by the event (morning, afternoon) on each of its days."""
    assert event.id is not None
    rows, day = [], event.starts_at.date()
    while day <= event.ends_at.date():
        for (h1, m1), (h2, m2) in _HALF_DAYS:
            start, end = utc(day, h1, m1), utc(day, h2, m2)
            if event.starts_at <= start and end <= event.ends_at:
                name = f"{day.month}月{day.day}日{'上午' if h1 < 5 else '下午'}"
                rows.append(
                    EventSession(event_id=event.id, name=name, starts_at=start, ends_at=end)
                )
        day += timedelta(days=1)
    return rows


def _past_participants(
    ctx: GenContext, event: Event, registry: Registry, pitching: list[FinancingDemand]
) -> list[EventParticipant]:
    assert event.id is not None
    window = (event.starts_at - timedelta(days=240), event.starts_at)
    recent = [d for d in pitching if d.created_at and window[0] <= d.created_at < window[1]]
    presenters = _distinct_enterprises(ctx, recent, ctx.rng.randint(6, 10))
    investors = _investors(ctx, registry, event.starts_at.date(), ctx.rng.randint(5, 12))
    rows = [
        EventParticipant(event_id=event.id, enterprise_id=e, role="presenter", status="accepted")
        for e in presenters
    ]
    return rows + [
        EventParticipant(event_id=event.id, institution_id=i.id, role="investor",
                         status="accepted", interests=_interests(registry, i))
        for i in investors
    ]  # fmt: skip


def _distinct_enterprises(ctx: GenContext, demands: list[FinancingDemand], n: int) -> list[int]:
    ids = list(dict.fromkeys(d.enterprise_id for d in demands))
    return ctx.rng.sample(ids, min(n, len(ids)))


def _investors(ctx: GenContext, registry: Registry, day: date, n: int) -> list[Institution]:
    """Resident equity investors first, topped up with banks when there are too few."""
    equity = [i for i in registry.of_kind(*EQUITY_KINDS) if i.is_resident_on(day)]
    banks = [i for i in registry.of_kind(InstitutionKind.bank) if i.is_resident_on(day)]
    chosen = ctx.rng.sample(equity, min(n, len(equity)))
    return chosen + ctx.rng.sample(banks, min(n - len(chosen), len(banks)))


def _interests(registry: Registry, inst: Institution) -> list[str]:
    assert inst.id is not None
    sectors = [code for m in registry.mandates.get(inst.id, []) for code in m.sectors]
    sectors += [code for p in registry.products.get(inst.id, []) for code in p.sectors]
    return sorted(set(sectors)) or ["C", "I", "M"]


def _upcoming_participants(
    ctx: GenContext,
    event: Event,
    session_ids: list[int | None],
    population: Population,
    registry: Registry,
    demands: list[FinancingDemand],
) -> list[EventParticipant]:
    """≥ 30 applying presenters with open demands, ≥ 20 investors with wishes and availability."""
    assert event.id is not None
    sessions = [s for s in session_ids if s is not None]
    open_demands = [d for d in demands if d.status.is_open_for_matching]
    pitching = [d for d in open_demands if d.financing_type != FinancingType.loan]
    presenters = _distinct_enterprises(ctx, pitching, UPCOMING_PRESENTERS)
    if len(presenters) < UPCOMING_PRESENTERS:  # top up with enterprises seeking loans
        more = [d for d in open_demands if d.enterprise_id not in presenters]
        presenters += _distinct_enterprises(ctx, more, UPCOMING_PRESENTERS - len(presenters))
    rows = [
        EventParticipant(event_id=event.id, enterprise_id=e, role="presenter", status="applied",
                         interests=[population.by_id[e].industry_code or ""],
                         available_session_ids=_available(ctx, sessions, 3))
        for e in presenters
    ]  # fmt: skip
    investors = _investors(ctx, registry, ctx.today, UPCOMING_INVESTORS)
    return rows + [_upcoming_investor(ctx, event, i, sessions, presenters, population, registry)
                   for i in investors]  # fmt: skip


def _available(ctx: GenContext, sessions: list[int], at_least: int) -> list[int]:
    return sorted(
        ctx.rng.sample(sessions, ctx.rng.randint(min(at_least, len(sessions)), len(sessions)))
    )


def _upcoming_investor(
    ctx: GenContext,
    event: Event,
    inst: Institution,
    sessions: list[int],
    presenters: list[int],
    population: Population,
    registry: Registry,
) -> EventParticipant:
    assert event.id is not None
    interests = _interests(registry, inst)
    liked = [e for e in presenters if _sector_of(population, e) in interests]
    others = [e for e in presenters if e not in liked]
    return EventParticipant(
        event_id=event.id,
        institution_id=inst.id,
        role="investor",
        status="applied",
        interests=interests,
        must_meet=sorted(ctx.rng.sample(liked, min(len(liked), ctx.rng.randint(0, 3)))),
        no_thanks=sorted(ctx.rng.sample(others, min(len(others), ctx.rng.randint(0, 2)))),
        available_session_ids=_available(ctx, sessions, 2),
    )


def _sector_of(population: Population, enterprise_id: int) -> str:
    return population.by_id[enterprise_id].industry_code or ""


def _roadshow_attendance(
    ctx: GenContext,
    event: Event,
    participants: list[EventParticipant],
    people: list[Person],
    staff: dict[int, list[Person]],
) -> list[Attendance]:
    """Presenters' people, one or two from each investor, and an audience."""
    mine = [p for p in participants if p.event_id == event.id]
    presenting = {p.enterprise_id for p in mine if p.enterprise_id is not None}
    attendees = [p for p in people if p.enterprise_id in presenting]
    for p in mine:
        if p.institution_id is not None:
            attendees += staff[p.institution_id][: ctx.rng.randint(1, 2)]
    attendees += ctx.rng.sample(people, ctx.rng.randint(10, 40))
    return _sign_in(ctx, event, attendees)


def _training_attendance(
    ctx: GenContext,
    event: Event,
    people: list[Person],
    regulars: list[Person],
    staff: dict[int, list[Person]],
) -> list[Attendance]:
    """Mostly enterprise staff (regulars come often), a speaker, and a few walk-ins."""
    size = ctx.rng.randint(20, 80)
    attendees = ctx.rng.sample(regulars, min(len(regulars), size // 3))
    attendees += ctx.rng.sample(people, min(len(people), size - len(attendees)))
    attendees += ctx.rng.choice(list(staff.values()))[:1]
    for _ in range(ctx.rng.randint(0, 6)):
        attendees.append(Person(_person_key(mobile_phone(ctx.rng)), person_name(ctx.rng)))
    return _sign_in(ctx, event, attendees)


def _sign_in(ctx: GenContext, event: Event, attendees: list[Person]) -> list[Attendance]:
    """One row per distinct person, checked in around the start."""
    assert event.id is not None
    unique = list({p.key: p for p in attendees}.values())
    return [
        Attendance(
            event_id=event.id,
            person_key=p.key,
            person_name=p.name,
            enterprise_id=p.enterprise_id,
            institution_id=p.institution_id,
            checked_in_at=_check_in(ctx, event.starts_at),
        )
        for p in unique
    ]


def _check_in(ctx: GenContext, starts_at: datetime) -> datetime:
    return starts_at + timedelta(minutes=ctx.rng.randint(-30, 40))
