"""Import rules: the pure core `matching/` never reaches the DB layer, HTTP or workers."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = ("models", "api", "workers", "sqlmodel", "sqlalchemy", "fastapi", "celery")
ALLOWED_ADAPTERS = {"service.py"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_matching_core_imports_no_db_http_or_workers() -> None:
    offenders = {
        str(p.relative_to(REPO)): sorted(_imported_roots(p) & set(FORBIDDEN_IN_CORE))
        for p in (REPO / "matching").rglob("*.py")
        if p.name not in ALLOWED_ADAPTERS
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_matching_core_reads_no_environment() -> None:
    hits = [
        str(p.relative_to(REPO))
        for p in (REPO / "matching").rglob("*.py")
        if p.name not in ALLOWED_ADAPTERS
        and ("os.environ" in p.read_text() or "getenv" in p.read_text())
    ]
    assert hits == []


def test_the_checker_itself_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from models.db import get_engine\nimport sqlalchemy.orm\n")
    assert _imported_roots(bad) >= {"models", "sqlalchemy"}
