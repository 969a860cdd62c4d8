"""Ingestion throughput and memory: generated demand rows as CSV and xlsx into SQLite, with dedupe.

Each (format, size) runs in its own subprocess against a fresh SQLite file, so peak RSS
(`ru_maxrss`) belongs to that import alone; a flat peak across sizes shows the streaming.

    .venv/bin/python benchmarks/ingest.py            # 25k, 50k, 100k rows, CSV and xlsx
    .venv/bin/python benchmarks/ingest.py --sizes 100000 --formats csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
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


def run_one(path: Path) -> dict[str, object]:
    """Import `path` into a fresh SQLite database; report time, rows/s and peak RSS."""
    from ingestion.service import import_file
    from models.db import make_engine, session_scope
    from models.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite")
        upgrade_to_head(engine)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        with session_scope(engine) as session:
            summary = import_file(session, path, user="bench")
        seconds = time.perf_counter() - start
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": summary.rows_read, "seconds": round(seconds, 2), "rows_per_s": round(summary.rows_read / seconds),
        "peak_rss_mb": round(peak / 1024, 1), "rss_growth_mb": round((peak - base_rss) / 1024, 1),
        "inserted": summary.inserted, "merged": summary.merged, "quarantined": summary.quarantined,
        "enterprises": summary.related,
    }  # fmt: skip


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"nproc={os.cpu_count()}, CPU={cpu}, Python {platform.python_version()}, SQLite file, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one)), ensure_ascii=False))
        return
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                path = Path(tmp) / f"demands_{size}.{fmt}"
                write_file(path, size)
                out = subprocess.run(
                    [sys.executable, __file__, "--one", str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{fmt:4} {size:>7} rows  {result['seconds']:>7}s  {result['rows_per_s']:>7} rows/s  "
                      f"peak RSS {result['peak_rss_mb']} MB (+{result['rss_growth_mb']} MB during import)  "
                      f"inserted {result['inserted']} merged {result['merged']} quarantined {result['quarantined']} "
                      f"{result['enterprises']}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
