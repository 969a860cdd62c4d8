"""The served ranking model: one choice in the database that every process ranks with.

`matchmaker train` (and the nightly retrain) publishes a trained model with its holdout metrics
and serves it; `matchmaker model use rules|VERSION` switches or rolls back. API, console,
digests, the nightly re-rank and roadshow fit all call `served_ranker`, so they agree on the
version, which every ranked list shows. Services never commit.
"""

import logging
import pickle
import threading
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from matching.learned import RULES_VERSION, LearnedRanker
from matching.rank import RulesRanker, ScoringModel
from models import RankerModel
from models.errors import NotFoundError
from services.audit.repository import append_audit
from services.recommendations import repository as repo

logger = logging.getLogger(__name__)
MODEL_FILE = "ranker.pkl"
_LOADED: dict[tuple[str, int, int], ScoringModel] = {}
_LOCK = threading.Lock()


def load_model_file(path: Path) -> ScoringModel:
    """The ranker saved at `path`, kept loaded while the file is unchanged."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        if key not in _LOADED:
            with path.open("rb") as fh:
                model = pickle.load(fh)  # our own file (`publish`)
            if not isinstance(model, LearnedRanker):
                raise pickle.UnpicklingError(f"{path}: not a LearnedRanker")
            _LOADED.clear()  # one model at a time: a switched-off version is not kept
            _LOADED[key] = model
        return _LOADED[key]


def served_ranker(session: Session) -> ScoringModel:
    """The model every caller ranks with: the served published ranker, else the rules.

    A served model whose file cannot be read falls back to the rules (logged), so ranking
    never stops; `matchmaker model list` shows the choice.
    """
    row = repo.served_model(session)
    if row is None:
        return RulesRanker()
    try:
        return load_model_file(Path(row.path))
    except (OSError, pickle.UnpicklingError):
        logger.exception("无法读取已启用的排序模型 %s（%s），暂用规则排序", row.version, row.path)
        return RulesRanker()


def publish(
    session: Session,
    model: LearnedRanker,
    model_dir: Path,
    metrics: dict[str, float],
    n_outcomes: int,
    n_won: int,
    at: datetime,
) -> RankerModel:
    """Save a trained ranker under `model_dir/VERSION/`, record it (by its absolute path: the
    server and the workers may run elsewhere) and serve it."""
    version = model.model_version
    path = model_dir.resolve() / version / MODEL_FILE  # absolute: read from any directory
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(model, fh)
    row = repo.model_by_version(session, version) or RankerModel(
        version=version, path=str(path), n_outcomes=n_outcomes, n_won=n_won
    )
    row.path, row.metrics = str(path), metrics
    session.add(row)
    session.flush()
    repo.serve_only(session, version, at)
    append_audit(session, actor="system", action="publish", entity="ranker_model",
                 entity_id=row.id, detail={"version": version, "metrics": metrics})  # fmt: skip
    return row


def use_model(session: Session, choice: str, actor: str, at: datetime) -> str:
    """Serve `choice` (a published version, or `rules`); returns the version now served."""
    if choice in ("rules", RULES_VERSION):
        repo.serve_only(session, None, at)
    else:
        row = repo.model_by_version(session, choice)
        if row is None:
            raise NotFoundError(f"模型版本“{choice}”未发布（可用 matchmaker model list 查看）")
        if not Path(row.path).exists():
            raise NotFoundError(f"模型版本“{choice}”的文件 {row.path} 不存在，无法启用")
        repo.serve_only(session, choice, at)
    served = served_ranker(session).model_version
    append_audit(session, actor=actor, action="serve", entity="ranker_model",
                 detail={"version": served})  # fmt: skip
    return served


def published_models(session: Session) -> list[RankerModel]:
    """Every published model, newest first (`served` marks the one in use)."""
    return repo.published_models(session)
