"""Presentation helpers for the offline evaluation (markdown tables, recall@k plots)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from matching.offline.evaluate import ModelResult

Curves = dict[str, dict[str, list[float]]]


def results_markdown(results: list[ModelResult], k: int) -> str:
    """Markdown table of Recall/NDCG/Hit@k, overall and for new relationships."""
    head = (f"| model | Recall@{k} | NDCG@{k} | Hit@{k} | new Recall@{k} | new NDCG@{k} "
            f"| new Hit@{k} | fit+rank s |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    rows = [
        f"| {r.name} | {r.overall.recall:.4f} | {r.overall.ndcg:.4f} | {r.overall.hit:.4f} "
        f"| {r.new.recall:.4f} | {r.new.ndcg:.4f} | {r.new.hit:.4f} | {r.seconds:.1f} |"
        for r in results
    ]
    return "\n".join([head, *rows])


def curves_markdown(curves: Curves) -> str:
    """Markdown table of Recall@k (overall / new) per model and k."""
    ks = next(iter(curves.values()))["k"] if curves else []
    head = "| model | " + " | ".join(f"@{int(k)}" for k in ks) + " |"
    rule = "|---|" + "---|" * len(ks)
    rows = [
        f"| {name} | "
        + " | ".join(f"{o:.3f} / {n:.3f}" for o, n in zip(c["overall"], c["new"], strict=True))
        + " |"
        for name, c in curves.items()
    ]
    return "\n".join([head, rule, *rows])


def plot_recall_curves(curves: Curves, title: str = "") -> Figure:
    """Two panels: Recall@k over all investors and for new relationships, one line per model."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=False)
    for ax, key, label in zip(axes, ("overall", "new"), ("all investors", "new relationships"),
                              strict=True):  # fmt: skip
        for name, c in curves.items():
            ax.plot(c["k"], c[key], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel("Recall@k")
        ax.set_title(f"Recall@k — {label}")
        ax.grid(True, which="both", alpha=0.3)
    ks = next(iter(curves.values()))["k"] if curves else []
    for ax in axes:
        ax.set_xticks(ks, [str(int(k)) for k in ks])
        ax.minorticks_off()
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """PNG bytes of ``fig`` (for ``IPython.display.Image``; needs no pyplot backend)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
