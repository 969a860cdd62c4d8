"""Pairwise precision and recall of name de-duplication.

Set 1 (built here, labelled by construction): realistic spellings of the same enterprise —
region prefixes (深圳市 / 广东省深圳市 / 南山区), bracketed regions （深圳）, legal forms, spaces,
full-width letters, 技术/科技, filler 发展 — plus distinct enterprises whose names differ by one
character of the 字号 (华芯 / 华信) or by their business (华芯科技 / 华芯电子).

Set 2 (independent, real): the names in ../shared/data/cn_registry/registry_sample.csv with a
valid 统一社会信用代码; two rows are the same enterprise exactly when their codes are equal.

A pair counts as predicted-same only for a confident merge ("review" pairs are not merged).
"""

from __future__ import annotations

import csv
import itertools
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.dedupe import same_enterprise  # noqa: E402
from ingestion.normalize import brand_of, half_width, normalize_company_name  # noqa: E402
from ingestion.uscc import is_valid_uscc  # noqa: E402

CHARS = "华芯信新鑫欣星兴恒衡宏鸿泓弘达大通同科创智云天瑞睿锐光广国朗腾迈卓远源元嘉佳"
TRADES = [
    "科技",
    "电子",
    "信息技术",
    "生物医药",
    "智能装备",
    "新材料",
    "软件",
    "半导体",
    "网络科技",
    "医疗器械",
]
CITIES = [
    ("深圳", "广东", "南山区"),
    ("广州", "广东", "天河区"),
    ("杭州", "浙江", "滨江区"),
    ("苏州", "江苏", "吴中区"),
]


def variants(rng: random.Random, brand: str, trade: str, city: tuple[str, str, str]) -> list[str]:
    """Spellings of one enterprise as different registers write it."""
    c, p, d = city
    form = rng.choice(["有限公司", "股份有限公司"])
    alt_trade = trade.replace("科技", "技术") if "科技" in trade else trade
    spellings = [
        f"{c}市{brand}{trade}{form}", f"{brand}{trade}（{c}）{form}", f"{brand}{trade}({c}){form}",
        f"{p}省{c}市{brand}{trade}{form}", f"{c}{brand}{trade}有限责任公司", f"{c}市 {brand}{trade} {form}",
        f"{c}市{d}{brand}{trade}{form}", f"{brand}{trade}", f"{c}市{brand}{alt_trade}{form}",
        f"{c}市{brand}{trade}发展{form}", half_width(f"{c}市{brand}{trade}{form}").replace("(", "（"),
    ]  # fmt: skip
    return rng.sample(spellings, k=rng.randint(2, 5))


def built_set(seed: int = 11, firms: int = 400) -> list[tuple[str, int]]:
    """(name, enterprise label) pairs, including near-identical distinct enterprises."""
    rng = random.Random(seed)
    names: list[tuple[str, int]] = []
    label = 0
    used: set[tuple[str, str]] = set()
    while label < firms:
        brand = "".join(rng.sample(CHARS, 2))
        trade, city = rng.choice(TRADES), rng.choice(CITIES)
        family = [(brand, trade)]
        twin = brand[0] + rng.choice([ch for ch in CHARS if ch != brand[1]])
        family.append((twin, trade))  # 华芯科技 vs 华信科技: distinct
        family.append(
            (brand, rng.choice([t for t in TRADES if t != trade]))
        )  # 华芯科技 vs 华芯电子
        for b, t in family:
            if (b, t) in used:
                continue
            used.add((b, t))
            names.extend((n, label) for n in variants(rng, b, t, city))
            label += 1
    return names


def registry_set() -> list[tuple[str, int]]:
    path = ROOT.parent / "shared" / "data" / "cn_registry" / "registry_sample.csv"
    if not path.exists():
        return []
    labels: dict[str, int] = {}
    out = []
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            code, name = (
                (row.get("统一信用代码") or "").strip(),
                (row.get("公司名称") or "").strip(),
            )
            if name and is_valid_uscc(code):
                out.append((name, labels.setdefault(code, len(labels))))
    return out


def score(names: list[tuple[str, int]]) -> dict[str, float]:
    """Pairwise precision/recall; only pairs in one 字号 block can be predicted same."""
    blocks: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, label in names:
        blocks[brand_of(normalize_company_name(name))[0]].append((name, label))
    tp = fp = review = 0
    for members in blocks.values():
        for (a, la), (b, lb) in itertools.combinations(members, 2):
            verdict = same_enterprise(a, b)
            review += verdict == "review"
            if verdict == "same":
                tp, fp = tp + (la == lb), fp + (la != lb)
    per_label: dict[int, int] = defaultdict(int)
    for _, label in names:
        per_label[label] += 1
    true_pairs = sum(n * (n - 1) // 2 for n in per_label.values())
    return {
        "names": len(names), "enterprises": len(per_label), "true_pairs": true_pairs,
        "predicted_pairs": tp + fp, "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / true_pairs if true_pairs else 1.0, "review_pairs": review,
    }  # fmt: skip


def main() -> None:
    for title, names in (
        ("built (labelled by construction)", built_set()),
        ("registry_sample (labelled by USCC)", registry_set()),
    ):
        if not names:
            print(f"{title}: skipped (file absent)")
            continue
        r = score(names)
        print(f"{title}: {r['names']} names / {r['enterprises']} enterprises, {r['true_pairs']} true pairs, "
              f"{r['predicted_pairs']} merged pairs, precision {r['precision']:.4f}, recall {r['recall']:.4f}, "
              f"{r['review_pairs']} pairs sent to review")  # fmt: skip


if __name__ == "__main__":
    main()
