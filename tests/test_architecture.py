"""The architecture holds: the import contracts of pyproject.toml ([tool.importlinter], checked by
`lint-imports`) and the SQL rule (only `services/*/repository*.py` and `models/` build or run SQL).

Each check is shown able to fail: a forbidden import planted in a copy of the tree is reported
against its contract, and the SQL scanner finds a planted query.
"""

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "matching", "ingestion", "services", "api", "cli", "workers", "demo")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# One forbidden import per contract: (contract id, file to append to, the import, what is reported)
PLANTED = [
    ("layers", "models/planted.py", "import services.jobs", "models.planted -> services.jobs"),
    ("pure-core", "matching/planted.py", "import sqlalchemy", "matching.planted -> sqlalchemy"),
    (
        "service-areas",
        "services/roadshow/planted.py",
        "from services.digests import service",
        "services.roadshow.planted -> services.digests.service",
    ),
    (
        "slate",
        "matching/slate/core.py",
        "from matching.slate import solve",
        "matching.slate.core -> matching.slate.solve",
    ),
]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_import_contracts_hold_on_the_tree() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_import_contract_reports_a_planted_forbidden_import(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    ids = {c for c, *_ in PLANTED}
    assert ids == set(contract_ids()), "every contract gets a planted violation"
    for _, path, line, _ in PLANTED:
        with (tmp_path / path).open("a", encoding="utf-8") as f:
            f.write(f"\n{line}\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    for contract, _, _, reported in PLANTED:
        section = report_of(done.stdout, contract_name(contract))
        assert reported in section, f"{contract}: {reported!r} not reported\n{done.stdout}"


def contracts() -> dict[str, str]:
    """Contract id → name, as pyproject.toml declares them."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c["name"] for c in config["tool"]["importlinter"]["contracts"]}


def contract_ids() -> list[str]:
    return list(contracts())


def contract_name(contract_id: str) -> str:
    return contracts()[contract_id]


def report_of(output: str, name: str) -> str:
    """The part of lint-imports' output that explains why contract `name` is broken."""
    assert f"{name} BROKEN" in output, output
    explained = output.split("Broken contracts", 1)[1]
    start = explained.index(f"\n{name}\n")
    following = [explained.find(f"\n{n}\n", start + 1) for n in map(contract_name, contract_ids())]
    end = min((k for k in following if k > start), default=len(explained))
    return explained[start:end]


def test_matching_reads_no_environment() -> None:
    """The pure core takes everything as arguments (settings are read by services and workers)."""
    hits = [str(p.relative_to(REPO)) for p in (REPO / "matching").rglob("*.py")
            if "os.environ" in p.read_text() or "getenv" in p.read_text()]  # fmt: skip
    assert hits == []


# ─── the SQL rule ──────────────────────────────────────────────────────────────────────────────
SQL_BUILDERS = {"select", "text", "insert", "update", "delete"}  # imported from SQLAlchemy/SQLModel
SQL_RUNNERS = {"exec", "execute", "scalars"}  # session.exec(...), connection.execute(...)
SESSIONS = ("session", "conn", "db")  # `.scalar(` only on these (`facts.scalar(metric)` is no SQL)


def sql_calls(source: str) -> list[int]:
    """Lines that build or run SQL: a call of `select`/`text`/`insert`/`update`/`delete` imported
    from sqlalchemy or sqlmodel (or `sa.select` on the module), or of `.exec`/`.execute`/
    `.scalars` on anything, or of `.scalar` on a session or connection."""
    tree = ast.parse(source)
    builders: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SQL_ROOTS:
            builders |= {a.asname or a.name for a in node.names if a.name in SQL_BUILDERS}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name.split(".")[0] in SQL_ROOTS}

    def is_sql(f: ast.expr) -> bool:
        if isinstance(f, ast.Name):
            return f.id in builders
        if not isinstance(f, ast.Attribute):
            return False
        on = ast.unparse(f.value)
        return (
            f.attr in SQL_RUNNERS
            or (f.attr == "scalar" and any(w in on.lower() for w in SESSIONS))
            or (f.attr in SQL_BUILDERS and on in modules)
        )

    lines = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and is_sql(n.func)]
    return sorted(lines)


SQL_ROOTS = {"sqlalchemy", "sqlmodel"}


def may_hold_sql(path: Path) -> bool:
    parts = path.relative_to(REPO).parts
    return parts[0] == "models" or (parts[0] == "services" and path.name.startswith("repository"))


def test_only_repositories_and_models_build_or_run_sql() -> None:
    found = {
        f"{path.relative_to(REPO)}:{line}"
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if not may_hold_sql(path)
        for line in sql_calls(path.read_text(encoding="utf-8"))
    }
    assert sorted(found) == []


def test_the_sql_scanner_finds_planted_queries() -> None:
    planted = (
        "import sqlalchemy as sa\n"
        "from sqlmodel import select as pick, Session\n"
        "def rows(session: Session):\n"
        "    session.exec(pick(A))\n"
        "    session.execute(sa.text('select 1'))\n"
        "    session.scalar(sa.delete(A))\n"
        "    return session.scalars(sa.update(A))\n"
        "def fine(session, d):\n"
        "    d.update(x=1)\n"
        "    facts.scalar('revenue')\n"
        "    session.get(A, 1)\n"
        "    session.add(A())\n"
    )
    assert sql_calls(planted) == [4, 4, 5, 5, 6, 6, 7, 7]
    assert may_hold_sql(REPO / "services/digests/repository.py")
    assert may_hold_sql(REPO / "models/migrations/versions/0001_initial_schema.py")
    assert not may_hold_sql(REPO / "services/digests/service.py")
    assert not may_hold_sql(REPO / "api/web/queries.py")
