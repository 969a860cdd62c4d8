"""Load test: 50 concurrent clients for 60 s against `matchmaker serve --workers 2` on loopback.

Mixed traffic: recommendations (30 %), reads of demands, enterprises, teasers and matches (60 %),
and `/health` (10 %) as the in-run reference. Prints p50/p95/p99 per kind and the error rate,
and with `--write` replaces the `## API load` section of docs/benchmarks.md.

    .venv/bin/python benchmarks/api_load.py [--clients 50] [--seconds 60] [--database-url URL]
"""

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlmodel import Session, col, select

from models import Enterprise, FinancingDemand, User
from models.db import make_engine
from models.generator import generate_center
from models.migrate import upgrade_to_head
from models.reference import DemandStatus, UserRole
from models.services.accounts import create_user

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(url: str | None, workdir: Path) -> tuple[str, list[int], list[int]]:
    """A demo center (generated unless `url` is given) with a matchmaker account."""
    if url is None:
        url = f"sqlite:///{workdir / 'load.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        if session.exec(select(Enterprise.id).limit(1)).first() is None:
            generate_center(session)
        create_user(
            session, f"loadmm{random.randrange(10**6)}", PASSWORD, UserRole.matchmaker, None
        )
        session.commit()
        demands = session.exec(
            select(FinancingDemand.id).where(FinancingDemand.status == DemandStatus.open)
        ).all()
        ents = session.exec(select(Enterprise.id).order_by(col(Enterprise.id)).limit(500)).all()
    engine.dispose()
    return url, [int(d) for d in demands if d], [int(e) for e in ents if e]


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    """`matchmaker serve` with 2 workers."""
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "load-test-secret-" + "x" * 32}
    cmd = [
        str(Path(sys.executable).parent / "matchmaker"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _request(demands: list[int], ents: list[int], rng: random.Random) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.10:
        return "health", "/health"
    if roll < 0.40:
        return "recommendations", f"/demands/{rng.choice(demands)}/recommendations?k=10"
    return "reads", rng.choice([
        "/demands?limit=20", f"/enterprises/{rng.choice(ents)}", "/teasers?limit=20",
        "/matches?limit=20", f"/demands/{rng.choice(demands)}",
    ])  # fmt: skip


async def client_loop(base: str, token: str, until: float, demands: list[int], ents: list[int],
                      seed: int, out: list[tuple[str, float, int]]) -> None:  # fmt: skip
    """One client: requests back to back until `until`."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            kind, path = _request(demands, ents, rng)
            start = time.perf_counter()
            try:
                status = (await client.get(path)).status_code
            except httpx.HTTPError:
                status = 599
            out.append((kind, (time.perf_counter() - start) * 1000, status))


async def run_load(base: str, clients: int, seconds: float, demands: list[int], ents: list[int],
                   user: str) -> list[tuple[str, float, int]]:  # fmt: skip
    """All clients at once for `seconds`."""
    async with httpx.AsyncClient(base_url=base) as c:
        token = (await c.post("/auth/token", data={"username": user, "password": PASSWORD})).json()
    until = time.monotonic() + seconds
    out: list[tuple[str, float, int]] = []
    await asyncio.gather(*(client_loop(base, token["access_token"], until, demands, ents, i, out)
                           for i in range(clients)))  # fmt: skip
    return out


def summarise(samples: list[tuple[str, float, int]], seconds: float) -> list[str]:
    """Markdown rows: kind, requests, p50, p95, p99, errors."""
    rows = []
    for kind in ("recommendations", "reads", "health", "all"):
        pick = [s for s in samples if kind == "all" or s[0] == kind]
        lat = np.array([s[1] for s in pick])
        errors = sum(1 for s in pick if s[2] >= 400)
        codes = sorted({s[2] for s in pick if s[2] >= 400})
        p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if len(lat) else (0, 0, 0)
        rows.append(f"| {kind} | {len(pick)} | {len(pick) / seconds:.1f} | {p50:.1f} | {p95:.1f} | "
                    f"{p99:.1f} | {errors} ({errors / max(len(pick), 1):.2%}) {codes or ''} |")  # fmt: skip
    return rows


def machine() -> str:
    """CPU model, cores, Python, load average."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average at start {os.getloadavg()[0]:.1f}")  # fmt: skip


def write_section(text: str) -> None:
    """Replace the `## API load` section of docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    head, _, rest = current.partition("## API load")
    tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
    doc.write_text(head.rstrip() + "\n\n" + text.rstrip() + "\n" + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="api-load-"))
    url, demands, ents = prepare_database(args.database_url, workdir)
    with Session(make_engine(url)) as s:
        user = s.exec(select(User.username).order_by(col(User.id).desc())).first() or ""
    port = _free_port()
    server = start_server(url, port)
    try:
        samples = asyncio.run(run_load(f"http://127.0.0.1:{port}", args.clients, args.seconds,
                                       demands, ents, user))  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    backend = url.split(":", 1)[0]
    lines = [
        "## API load",
        "",
        f"`benchmarks/api_load.py`: {args.clients} concurrent clients for {args.seconds:.0f} s against "
        f"`matchmaker serve --workers 2` on loopback ({backend}, demo center of 2,000 enterprises); "
        f"the load generator runs on the same 2 cores. {machine()}.",
        "",
        "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *summarise(samples, args.seconds),
    ]
    print("\n".join(lines))
    if args.write:
        write_section("\n".join(lines))


if __name__ == "__main__":
    main()
