"""`generate_center`: a whole, realistic, deterministic center in one session."""

import random
from datetime import date

from sqlmodel import Session

from demo.generator.context import GenContext
from demo.generator.demands import generate_demands
from demo.generator.engagement import generate_engagement
from demo.generator.enterprises import generate_enterprises
from demo.generator.events import generate_events
from demo.generator.financials import generate_financials
from demo.generator.institutions import generate_institutions
from demo.generator.listing import generate_listing
from demo.generator.pipeline import generate_pipeline
from demo.generator.policies import generate_policies

DEFAULT_TODAY = date(2026, 6, 30)


def generate_center(
    session: Session, *, seed: int = 42, enterprises: int = 2000, today: date = DEFAULT_TODAY
) -> dict[str, int]:
    """Insert a realistic center through `session` (flushed, not committed); counts per table.

    Everything derives from `seed` and `today`: the same arguments give the same rows.
    """
    ctx = GenContext(session=session, rng=random.Random(seed), today=today)
    population = generate_enterprises(ctx, enterprises)
    registry = generate_institutions(ctx)
    demands = generate_demands(ctx, population)
    matches, _deals = generate_pipeline(ctx, population, registry, demands)
    generate_listing(ctx, population, registry)
    generate_financials(ctx)
    generate_events(ctx, population, registry, demands)
    generate_engagement(ctx, population, registry, matches, demands)
    generate_policies(ctx)
    session.flush()
    return dict(sorted(ctx.counts.items()))
