"""`generate_center`: a whole, realistic, deterministic center in one session, at any size."""

import random
from datetime import date

from sqlmodel import Session

from demo.generator.context import GenContext
from demo.generator.demands import generate_demands
from demo.generator.engagement import generate_consents, generate_engagement
from demo.generator.enterprises import Population, Registrar, generate_enterprises
from demo.generator.events import generate_events
from demo.generator.financials import generate_financials
from demo.generator.institutions import Registry, generate_institutions
from demo.generator.listing import generate_listing
from demo.generator.pipeline import generate_pipeline
from demo.generator.policies import generate_policies
from models.demand import FinancingDemand

DEFAULT_TODAY = date(2026, 6, 30)
DEFAULT_ENTERPRISES = 2000
#: Enterprises generated, written and let go at a time: memory stays flat at any size.
CHUNK = 5_000


def generate_center(
    session: Session,
    *,
    seed: int = 42,
    enterprises: int = DEFAULT_ENTERPRISES,
    today: date = DEFAULT_TODAY,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Insert a realistic center through `session` (flushed, not committed); counts per table.

    Everything derives from `seed` and `today`: the same arguments give the same rows. The
    enterprises, with their demands, pipeline and listing, come in chunks of `chunk`; the
    registry grows with `enterprises`; events and complaints draw on the first chunk.
    """
    ctx = GenContext(session=session, rng=random.Random(seed), today=today,
                     scale=max(1.0, enterprises / DEFAULT_ENTERPRISES))  # fmt: skip
    registrar = Registrar.drawn(ctx)
    sample: tuple[Population, list[FinancingDemand]] | None = None
    registry: Registry | None = None
    for start in range(0, enterprises, chunk):
        population = generate_enterprises(ctx, min(chunk, enterprises - start), registrar)
        registry = registry or generate_institutions(ctx)
        demands = generate_demands(ctx, population)
        matches, _deals = generate_pipeline(ctx, population, registry, demands)
        generate_financials(ctx, population, generate_listing(ctx, population, registry))
        generate_consents(ctx, matches, demands)
        sample = sample or (population, demands)
    assert sample is not None and registry is not None, "a center has enterprises"
    generate_events(ctx, sample[0], registry, sample[1])
    generate_engagement(ctx, sample[0], registry)
    generate_policies(ctx)
    session.flush()
    return dict(sorted(ctx.counts.items()))
