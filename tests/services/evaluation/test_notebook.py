"""`notebooks/evaluation.ipynb` runs top to bottom against a small generated center."""

from datetime import date
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from demo.generator import generate_center
from models.db import make_engine, session_scope
from models.migrate import upgrade_to_head

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "notebooks" / "evaluation.ipynb"


@pytest.fixture(scope="module")
def small_center(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('nb') / 'center.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        generate_center(session, seed=7, enterprises=300, today=date(2026, 6, 30))
    engine.dispose()
    return url


@pytest.mark.slow
def test_the_evaluation_notebook_executes(
    small_center: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALUATION_DATABASE_URL", small_center)
    monkeypatch.delenv("EVALUATION_YEAR", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(str(o.get("text", "")) for o in outputs)
    assert "数据截至 2026-" in text and "评价期间：2025年" in text
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert html.count("<svg ") == 18 and "上年同期" in html  # the trend charts, words as text
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "辅导企业在创业板、科创板上市数量（家）" in markdown and "满意度评价" in markdown
