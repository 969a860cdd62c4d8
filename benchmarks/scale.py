"""Recommendation latency and process RSS at two center sizes, through the API on SQLite.

For each size a center is generated (`generate_center`, the generator of `matchmaker demo`) into
a SQLite file under `--dir` (kept, and reused by the next run), and a fresh Python process serves
the app in-process (`create_app` with the production engine, `TestClient`) to a matchmaker:

* warm: `GET /demands/{id}/recommendations?k=10` for random open demands (`--requests`);
* after a write: `--moves` times, a pipeline move (`POST /matches/{id}/transitions`, an
  introduced match of an open demand to 面谈), then the next recommendation;
* the process RSS at the end (and its peak).

Goal (issue #25): p95 ≤ 20 ms warm and ≤ 150 ms right after a write, the largest size's p95 at
most 1.5 × the smallest's.

    .venv/bin/python benchmarks/scale.py [--enterprises 2000 20000] [--requests 300] [--moves 30]
"""

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-secret-key-for-signing-tokens-0123456789"
USER, PASSWORD = "scalemm", "scale-benchmark-password-2026"
GOALS = {"warm_p95_ms": 20.0, "after_write_p95_ms": 150.0, "ratio": 1.5}


def generate(path: Path, enterprises: int) -> None:
    """A migrated SQLite file with a generated center and a matchmaker account."""
    from sqlmodel import Session

    from demo.generator.center import generate_center
    from models.db import make_engine
    from models.migrate import upgrade_to_head
    from models.reference import UserRole
    from services.accounts.service import create_user

    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        generate_center(session, enterprises=enterprises)
        create_user(session, USER, PASSWORD, UserRole.matchmaker, None)
        session.commit()
    engine.dispose()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _targets(engine: object) -> tuple[list[int], list[tuple[int, int]]]:
    """Open demands, and introduced matches of open demands (id, version)."""
    from sqlmodel import Session, col, select

    from models import FinancingDemand, Match
    from models.reference import PipelineStage

    open_ = ["pending", "open"]
    with Session(engine) as s:  # type: ignore[call-overload]
        demands = s.exec(
            select(FinancingDemand.id).where(col(FinancingDemand.status).in_(open_))
        ).all()
        moves = s.exec(
            select(Match.id, Match.version)
            .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
            .where(col(Match.stage) == PipelineStage.introduced)
            .where(col(FinancingDemand.status).in_(open_))
        ).all()
    return [int(d) for d in demands if d], [(int(m), int(v)) for m, v in moves]


def measure(path: Path, requests: int, moves: int, seed: int) -> dict[str, float]:
    """Serve the app over ``path`` in this process and time recommendations (milliseconds)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from models.db import make_engine
    from models.settings import Settings

    url = f"sqlite:///{path}"
    engine = make_engine(url, serialized=True)
    app = create_app(Settings(secret_key=SECRET, database_url=url), engine=engine)
    rng = random.Random(seed)
    demands, movable = _targets(engine)
    rng.shuffle(movable)
    with TestClient(app) as client:
        token = client.post("/auth/token", data={"username": USER, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        def recommend() -> float:
            start = time.perf_counter()
            reply = client.get(f"/demands/{rng.choice(demands)}/recommendations?k=10",
                               headers=headers)  # fmt: skip
            assert reply.status_code == 200, reply.text
            return (time.perf_counter() - start) * 1000

        first = recommend()
        warm = [recommend() for _ in range(requests)]
        after, move_ms = [], []
        for match_id, version in movable[:moves]:
            start = time.perf_counter()
            reply = client.post(f"/matches/{match_id}/transitions", headers=headers,
                                json={"to_stage": "meeting", "expected_version": version})  # fmt: skip
            assert reply.status_code == 200, reply.text
            move_ms.append((time.perf_counter() - start) * 1000)
            after.append(recommend())
    engine.dispose()
    return {
        "first_ms": first,
        "warm_p50_ms": float(np.percentile(warm, 50)),
        "warm_p95_ms": float(np.percentile(warm, 95)),
        "after_write_p50_ms": float(np.percentile(after, 50)),
        "after_write_p95_ms": float(np.percentile(after, 95)),
        "move_p50_ms": float(np.percentile(move_ms, 50)),
        "rss_mb": _rss_mb(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "demands_open": len(demands),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enterprises", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "scale")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a child: measure this file
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.requests, args.moves, seed=7)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    rows = {}
    for n in args.enterprises:
        path = args.dir / f"center-{n}.sqlite"
        if not path.exists():
            generate(path, n)
        child = [sys.executable, __file__, "--one", str(path), "--requests", str(args.requests),
                 "--moves", str(args.moves)]  # fmt: skip
        out = subprocess.run(child, check=True, capture_output=True, text=True, env=os.environ)
        rows[n] = json.loads(out.stdout.strip().splitlines()[-1])
        print(n, " ".join(f"{k}={v:.1f}" for k, v in rows[n].items()), flush=True)
    small, large = rows[min(rows)], rows[max(rows)]
    for key in ("warm_p95_ms", "after_write_p95_ms"):
        ratio = large[key] / small[key]
        verdict = "met" if ratio <= GOALS["ratio"] and large[key] <= GOALS[key] else "NOT met"
        print(f"{key}: {small[key]:.1f} → {large[key]:.1f} ms (×{ratio:.2f}); goal {verdict}")


if __name__ == "__main__":
    main()
