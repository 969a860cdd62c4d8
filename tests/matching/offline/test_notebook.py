"""`notebooks/matching_quality.ipynb` executes top to bottom on the shared Crunchbase extract."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "notebooks" / "matching_quality.ipynb"
DATA = REPO / ".." / "shared" / "data" / "crunchbase2013" / "investments_before_2013.csv"
SHORT_PARAMETERS = "\n".join([
    f"DATA = {str(DATA)!r}",
    'SPLITS = [("2012-07-01", None)]',
    "KS = [1, 5, 10, 20]",
    "RANDOM_STATE = 0",
])  # fmt: skip


def _code_sources(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_the_notebook_defines_no_logic() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for source in _code_sources(nb):
        assert "def " not in source and "class " not in source and "lambda" not in source
    assert "matching.offline" in "".join(_code_sources(nb))


@pytest.mark.slow
def test_the_matching_quality_notebook_executes() -> None:
    if not DATA.exists():
        pytest.skip(f"shared data not available at {DATA}")
    pytest.importorskip("implicit")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    params.source = SHORT_PARAMETERS
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    for model in ("learned-ranker", "implicit-als", "category+round-popularity"):
        assert f"| {model} |" in markdown
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1
