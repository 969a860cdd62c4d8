"""Ingestion throughput and memory: generated demand rows as CSV and xlsx, with dedupe.

Each (format, size, database) runs `--repeats` times, each in its own subprocess against a fresh
database (a SQLite file, or a new database on the PostgreSQL server of `TEST_POSTGRES_URL`), so
peak RSS (`ru_maxrss`) belongs to that import alone; a flat peak across sizes shows the
streaming. Wall and CPU time are both reported (the machine is shared: CPU time is what the
import itself costs), next to a same-process reference — merely reading the file (csv-parsing
it, or the xlsx rows with python-calamine) — and the ratio of the two. The databases alternate
run by run, so each sees the same host.

    .venv/bin/python benchmarks/ingest.py            # 25k, 50k, 100k rows, CSV and xlsx, SQLite
    .venv/bin/python benchmarks/ingest.py --sizes 100000 --formats csv --databases sqlite,postgres
    .venv/bin/python benchmarks/ingest.py --root /path/to/older/checkout   # "before" figures
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = [
    "序号",
    "企业名称",
    "统一社会信用代码",
    "所属行业",
    "拟融资金额（万元）",
    "融资方式",
    "融资轮次",
    "需求编号",
    "成立日期",
]
BRAND = "鹏芯睿擎瀚澜启迈曜恒拓锐星辰源景嘉宸泓熠弘朗昊卓越宏智诚信达远航峰云逸泽淳沐瑞祥晟铭翰骏腾微灵锦旭光辉晨澄"
TRADE = ["科技", "信息技术", "电子", "生物医药", "智能装备", "新材料", "软件", "半导体"]
CITY = ["深圳市", "广州市", "", "广东省深圳市"]
TYPES = ["信用贷款", "知识产权质押贷款", "股权融资", "投贷联动"]
ROUNDS = ["天使轮", "A轮", "B轮", "C轮", "Pre-IPO", ""]
AMOUNTS = ["500", "1,200", "0.3亿", "800万元", "300-800万", "2000"]


def generate_rows(n: int, seed: int = 1) -> list[list[object]]:
    """`n` demand rows over n/2.5 enterprises; name spellings vary, ~70 % carry a USCC."""
    from ingestion.uscc import make_uscc

    rng = random.Random(seed)
    firms = []
    for i in range(max(1, int(n / 2.5))):
        brand = rng.choice(BRAND) + rng.choice(BRAND) + f"{i:05d}"
        uscc = make_uscc(rng, "440305") if rng.random() < 0.7 else ""
        firms.append((brand + rng.choice(TRADE), uscc))
    rows: list[list[object]] = []
    for i in range(n):
        core, uscc = firms[rng.randrange(len(firms))]
        name = rng.choice(CITY) + core + rng.choice(["有限公司", "股份有限公司"])
        rows.append([i + 1, name, uscc, rng.choice(["C39", "I65", "医药制造业"]), rng.choice(AMOUNTS),
                     rng.choice(TYPES), rng.choice(ROUNDS), f"XQ{i:07d}", f"20{rng.randint(10, 23)}年{rng.randint(1, 12)}月"])  # fmt: skip
    return rows


def write_file(path: Path, n: int) -> None:
    rows = generate_rows(n)
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["2024年科技型企业融资需求汇总表"])
            writer.writerow(HEADER)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("融资需求")
    sheet.append(["2024年科技型企业融资需求汇总表"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def read_reference(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to merely read the file: csv-parse it, or stream the xlsx rows."""
    wall, cpu = time.perf_counter(), time.process_time()
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for _row in csv.reader(fh):
                pass
    else:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(path))
        for _cells in workbook.get_sheet_by_index(0).iter_rows():
            pass
        workbook.close()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_one(path: Path, database: str) -> dict[str, object]:
    """Import `path` into a fresh database; time (wall and CPU), rows/s, peak RSS.

    The reference — reading the same file and nothing else — is timed in the same process
    right before and after the import (the faster of the two), so both see the same machine.
    """
    from models.db import make_engine, session_scope
    from models.migrate import upgrade_to_head
    from services.imports.service import import_file

    before = read_reference(path)
    with tempfile.TemporaryDirectory() as tmp, _database(database, tmp) as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall, cpu = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            summary = import_file(session, path, user="bench")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    after = read_reference(path)
    ref_wall, ref_cpu = min(before[0], after[0]), min(before[1], after[1])
    return {
        "rows": summary.rows_read, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
        "rows_per_s": round(summary.rows_read / wall), "cpu_rows_per_s": round(summary.rows_read / cpu),
        "cpu_us_per_row": round(cpu / summary.rows_read * 1e6, 1),
        "ref_seconds": round(ref_wall, 3), "ref_cpu_seconds": round(ref_cpu, 3),
        "ratio": round(wall / ref_wall, 1), "cpu_ratio": round(cpu / ref_cpu, 1),
        "base_rss_mb": round(base_rss / 1024, 1), "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - base_rss) / 1024, 1),
        "inserted": summary.inserted, "merged": summary.merged, "quarantined": summary.quarantined,
        "review": summary.review, "enterprises": summary.related,
    }  # fmt: skip


@contextmanager
def _database(kind: str, tmp: str) -> Iterator[str]:
    """The URL of a fresh SQLite file, or of a new database on `TEST_POSTGRES_URL`'s server."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/bench.sqlite"
        return
    from sqlalchemy import make_url, text

    from models.db import make_engine

    base, name = os.environ["TEST_POSTGRES_URL"], f"bench_ingest_{os.getpid()}"
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"nproc={os.cpu_count()}, CPU={cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def median_runs(
    path: Path, repeats: int, root: Path, modes: list[str]
) -> dict[str, dict[str, object]]:
    """Run the import `repeats` times per database, each in a fresh subprocess, the databases
    alternating run by run (so each sees the same host); per database the run of median wall time."""
    runs: dict[str, list[dict[str, object]]] = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode in modes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(path), "--root", str(root), "--databases", mode],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {mode: _median(found) for mode, found in runs.items()}


def _median(runs: list[dict[str, object]]) -> dict[str, object]:
    runs.sort(key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    result = dict(runs[len(runs) // 2])
    result["cpu_seconds_median"] = statistics.median(float(r["cpu_seconds"]) for r in runs)  # type: ignore[arg-type]
    result["all_seconds"] = [r["seconds"] for r in runs]
    return result


def report(fmt: str, size: int, mode: str, r: dict[str, object]) -> None:
    print(f"{fmt:4} {size:>7} rows  {mode:8}  wall {r['seconds']:>6}s {r['rows_per_s']:>6} rows/s (runs {r['all_seconds']})  "
          f"CPU {r['cpu_seconds']:>6}s {r['cpu_rows_per_s']:>6} rows/s ({r['cpu_us_per_row']} µs/row, "
          f"median of runs {r['cpu_seconds_median']}s)  "
          f"reference {r['ref_seconds']}s wall / {r['ref_cpu_seconds']}s CPU (ratio {r['ratio']} / {r['cpu_ratio']})  "
          f"RSS {r['base_rss_mb']} -> {r['peak_rss_mb']} MB (+{r['rss_growth_mb']})  "
          f"inserted {r['inserted']} merged {r['merged']} quarantined {r['quarantined']} review {r['review']} "
          f"{r['enterprises']}  load {load_average()}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--repeats", type=int, default=3, help="runs per file; the median is shown")
    parser.add_argument(
        "--root", default=str(ROOT), help="the source tree to import (before/after)"
    )
    parser.add_argument(
        "--databases", default="sqlite", help="sqlite, postgres (TEST_POSTGRES_URL), alternating"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, args.root)
        print(json.dumps(run_one(Path(args.one), args.databases), ensure_ascii=False))
        return
    print(
        f"{machine()}; load average {load_average()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                path = Path(tmp) / f"demands_{size}.{fmt}"
                write_file(path, size)
                found = median_runs(path, args.repeats, Path(args.root), args.databases.split(","))
                for mode, result in found.items():
                    report(fmt, size, mode, result)
                path.unlink()


if __name__ == "__main__":
    main()
