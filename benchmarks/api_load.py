"""Load test of the recommendations endpoint on PostgreSQL, started as docs/deployment.md says.

A fresh PostgreSQL database (next to `TEST_POSTGRES_URL`, dropped afterwards unless `--keep`)
gets the demo center (`matchmaker demo`) and a matchmaker (`matchmaker users create`); then
`matchmaker serve --workers 2` runs, and simulated users on keep-alive connections send
`GET /demands/{id}/recommendations?k=10` (a random open demand) with a bearer token:

* users: `--clients` (50) users wait a uniform 0.5–1.5 s between requests, for `--seconds`
  (60). Goal: p95 ≤ 50 ms and no error.
* saturation: the same users with no think time (closed loop): throughput, reported without a
  goal (latency is then about users / throughput, Little's law).

Prints the figures, the machine (CPU model, cores, Python) and the load average before and after
each run (the machine may be shared).

    .venv/bin/python benchmarks/api_load.py [--clients 50] [--seconds 60] [--database-url URL]
"""

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
MATCHMAKER = str(Path(sys.executable).parent / "matchmaker")
USER, PASSWORD = "loadmm", "load-test-password-2026"
GOAL_P95_MS = 50.0
TIMEOUT_S = 30.0
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def create_database(base_url: str) -> str:
    """A new, empty database on the server of `base_url`; its URL."""
    name = f"mm_api_load_{uuid.uuid4().hex[:8]}"
    engine = create_engine(_admin_url(base_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database `create_database` made."""
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def open_demands(url: str) -> list[int]:
    """The ids of the open demands."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM financing_demand WHERE status = 'open'")).all()
    engine.dispose()
    return [int(r[0]) for r in rows]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """`matchmaker serve --workers N`, once it answers /health."""
    proc = subprocess.Popen([MATCHMAKER, "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the server did not start")


class Connection:
    """One keep-alive HTTP/1.1 connection (a minimal client: little CPU taken from the server)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> int:
        """GET `path`; its status (the body is read and dropped)."""
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head)
        head = await reader.readuntil(b"\r\n\r\n")
        length = _LENGTH.search(head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        return int(head[9:12])

    def close(self) -> None:
        """Drop the connection (the next request opens another)."""
        if self.streams is not None:
            self.streams[1].close()
        self.streams = None


async def _user(port: int, token: str, demands: list[int], seed: int, seconds: float,
                think: tuple[float, float], out: list[tuple[float, int]]) -> None:  # fmt: skip
    rng, conn = random.Random(seed), Connection(port, token)
    if think[1]:
        await asyncio.sleep(rng.uniform(0, think[1]))  # users arrive over one think time
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        path = f"/demands/{rng.choice(demands)}/recommendations?k=10"
        start = time.perf_counter()
        try:
            status = await asyncio.wait_for(conn.get(path), TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            status = 599
            conn.close()
        out.append(((time.perf_counter() - start) * 1000, status))
        if think[1]:
            await asyncio.sleep(rng.uniform(*think))
    conn.close()


def run(port: int, token: str, demands: list[int], clients: int, seconds: float,
        think: tuple[float, float]) -> dict[str, float]:  # fmt: skip
    """One run: every user for `seconds`; p50/p95/p99 (ms), requests/s, errors, load average."""
    out: list[tuple[float, int]] = []
    load_before = os.getloadavg()[0]

    async def users() -> None:
        await asyncio.gather(*(_user(port, token, demands, seed, seconds, think, out)
                               for seed in range(clients)))  # fmt: skip

    started = time.perf_counter()
    asyncio.run(users())
    elapsed = time.perf_counter() - started
    latency = np.array([ms for ms, _ in out])
    p50, p95, p99 = np.percentile(latency, [50, 95, 99])
    return {"requests": len(out), "per_s": len(out) / elapsed, "p50": p50, "p95": p95,
            "p99": p99, "errors": sum(1 for _, status in out if status != 200),
            "load_before": load_before, "load_after": os.getloadavg()[0]}  # fmt: skip


def machine() -> str:
    """CPU model, cores, Python."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = re.search(r"Model name:\s*(.+)", lscpu)
    name = model.group(1).strip() if model else platform.processor()
    return f"{name}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    """Build the database, serve it, run both load models, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="an existing demo database (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        base = os.environ.get("TEST_POSTGRES_URL") or sys.exit("TEST_POSTGRES_URL is not set")
        url = create_database(base)
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "load-test-secret-" + "x" * 32,
                        "MATCHMAKER_ENV_FILE": "", "CELERY_ALWAYS_EAGER": "1",
                        "AUDIT_ANCHOR_PATH": str(Path(tempfile.mkdtemp()) / "anchors.jsonl")}  # fmt: skip
    server = None
    try:
        if args.database_url is None:
            subprocess.run([MATCHMAKER, "demo"], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            subprocess.run([MATCHMAKER, "users", "create", "--username", USER, "--password",
                            PASSWORD, "--role", "matchmaker"], env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        demands, port = open_demands(url), _free_port()
        server = start_server(env, port, args.workers)
        reply = httpx.post(f"http://127.0.0.1:{port}/auth/token",
                           data={"username": USER, "password": PASSWORD}, timeout=60)  # fmt: skip
        token = str(reply.raise_for_status().json()["access_token"])
        run(port, token, demands, 2 * args.workers, 10, (0.0, 0.0))  # every worker warmed up
        print(f"machine: {machine()}; {len(demands)} open demands; {args.workers} workers")
        for name, think in (("users", (0.5, 1.5)), ("saturation", (0.0, 0.0))):
            r = run(port, token, demands, args.clients, args.seconds, think)
            goal = (f"; goal p95 ≤ {GOAL_P95_MS:g} ms and 0 errors: "
                    f"{'met' if r['p95'] <= GOAL_P95_MS and not r['errors'] else 'MISSED'}"
                    if name == "users" else "")  # fmt: skip
            print(f"{name} ({args.clients} clients, think {think[0]:g}–{think[1]:g} s, "
                  f"{args.seconds:g} s): {r['requests']} requests, {r['per_s']:.1f}/s, "
                  f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, "
                  f"{r['errors']} errors; load average {r['load_before']:.2f} → "
                  f"{r['load_after']:.2f}{goal}", flush=True)  # fmt: skip
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        if args.database_url is None and not args.keep:
            drop_database(url)
        elif args.keep:
            print(f"database kept: {make_url(url).render_as_string(hide_password=True)}")


if __name__ == "__main__":
    main()
