"""Policy-matching benchmark: every demo enterprise × every demo policy.

Run: ``.venv/bin/python benchmarks/policy.py [--enterprises 2000] [--repeats 21]``.
Generates the demo center (seed 42) into a scratch SQLite file, then times, as medians of
repeated runs: building the enterprise columns, evaluating every condition of every policy for
every enterprise with the expected benefits, the whole service call including the database
reads, and one enterprise's full answer with its Chinese explanations. Writes the figures, with
the machine's details, under ``## Policy matching`` in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlmodel import Session

from demo.generator import generate_center
from demo.generator.center import DEFAULT_TODAY
from matching.policy import EnterpriseFacts, benefit_amounts, evaluate_catalogue
from models.db import make_engine
from models.migrate import upgrade_to_head
from services.policy.service import (
    REFERENCE_RATE_PCT,
    enterprise_records,
    load_policies,
    match_counts,
    match_enterprise,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of `run` in milliseconds, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def machine() -> str:
    """CPU, CPUs visible, Python, numpy, load."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}; {os.cpu_count()} CPUs visible; Python {platform.python_version()}; "
            f"numpy {np.__version__}; load average at start {load:.1f}")  # fmt: skip


def measure(session: Session, repeats: int) -> dict[str, float]:
    """The timings, in ms (and the sizes)."""
    records = enterprise_records(session)
    policies = load_policies(session)
    facts = EnterpriseFacts.build(records)

    def core() -> int:
        verdicts = evaluate_catalogue(policies, facts, DEFAULT_TODAY)
        for v in verdicts:
            benefit_amounts(v.policy, facts, DEFAULT_TODAY, REFERENCE_RATE_PCT)
        return sum(int(v.qualified.sum()) for v in verdicts)

    qualified = core()
    first = int(facts.ids[0])
    return {
        "enterprises": facts.n,
        "policies": len(policies),
        "conditions": sum(len(p.conditions) for p in policies),
        "qualified_pairs": qualified,
        "build_ms": median_ms(lambda: EnterpriseFacts.build(records), repeats),
        "core_ms": median_ms(core, repeats),
        "service_ms": median_ms(lambda: match_counts(session, DEFAULT_TODAY), max(3, repeats // 4)),
        "one_ms": median_ms(lambda: match_enterprise(session, first, DEFAULT_TODAY), repeats),
    }


def section(r: dict[str, float], repeats: int) -> str:
    """The markdown section."""
    pairs = int(r["enterprises"] * r["policies"])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""## Policy matching

`benchmarks/policy.py`: the demo center (seed 42) — {int(r["enterprises"]):,} enterprises × \
{int(r["policies"])} policies ({int(r["conditions"])} conditions), i.e. {pairs:,} pairs; \
{int(r["qualified_pairs"]):,} pairs qualify on {DEFAULT_TODAY.isoformat()}. Medians of {repeats} runs.

| measure | result | goal |
| --- | --- | --- |
| every enterprise × every policy: all condition verdicts + expected benefits (pure core) | {r["core_ms"]:.1f} ms | well under 1 s |
| building the enterprise columns from the loaded records | {r["build_ms"]:.1f} ms | — |
| the same end to end through the service, database reads included (`match_counts`) | {r["service_ms"]:.0f} ms | — |
| one enterprise's full answer with Chinese explanations (`match_enterprise`) | {r["one_ms"]:.1f} ms | — |

Machine: {machine()}; measured {when}. SQLite file on local disk; the database reads dominate
the end-to-end figure, the matching itself is the first row.
"""


def write_section(text: str) -> None:
    """Replace (or append) the `## Policy matching` section of docs/benchmarks.md."""
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(r"## Policy matching\n.*?(?=\n## |\Z)", re.S)
    doc = (
        pattern.sub(lambda _m: text.rstrip(), doc)
        if pattern.search(doc)
        else doc.rstrip() + "\n\n" + text
    )
    DOC.write_text(doc.rstrip() + "\n", encoding="utf-8")


def main() -> None:
    """Generate, measure, print and write."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'bench.sqlite'}")
        upgrade_to_head(engine)
        with Session(engine) as session:
            generate_center(session, seed=42, enterprises=args.enterprises)
            session.commit()
            text = section(measure(session, args.repeats), args.repeats)
        engine.dispose()
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
