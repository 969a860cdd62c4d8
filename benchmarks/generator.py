"""The demo generator at any size: wall and CPU time and peak RSS of `generate_center`.

Each (database, size) runs in its own subprocess against a fresh database (a SQLite file, or a
new database on the PostgreSQL server of `TEST_POSTGRES_URL`, dropped afterwards), so peak RSS
(`ru_maxrss`) is that generation's alone; a flat peak across sizes shows the chunked streaming.

    .venv/bin/python benchmarks/generator.py                              # 20k, SQLite
    .venv/bin/python benchmarks/generator.py --sizes 20000,200000 --databases postgres
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import _database, load_average, machine  # noqa: E402


def run_one(size: int, database: str) -> dict[str, object]:
    """Build a center of `size` enterprises in a fresh database; time and peak RSS."""
    from demo.generator import generate_center
    from models.db import make_engine, session_scope
    from models.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory() as tmp, _database(database, tmp) as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall, cpu = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            counts = generate_center(session, enterprises=size)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
        "base_rss_mb": round(base_rss / 1024), "peak_rss_mb": round(peak / 1024),
        "rows": sum(counts.values()), **{k: counts[k] for k in (
            "enterprise", "financing_demand", "match", "match_transition", "institution",
            "loan_product", "investment_mandate")},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000")
    parser.add_argument(
        "--databases", default="sqlite", help="sqlite, postgres (TEST_POSTGRES_URL)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.databases)))
        return
    print(f"{machine()}; load average {load_average()}; {time.strftime('%Y-%m-%d %H:%M UTC')}")
    for size in (int(s) for s in args.sizes.split(",")):
        for database in args.databases.split(","):
            command = [sys.executable, __file__, "--one", str(size), "--databases", database]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{size:>9,} enterprises  {database:8}  {result}  load {load_average()}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
