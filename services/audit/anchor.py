"""Anchors of the audit chain: its length and head hash, signed with a key outside the database.

The hash chain alone shows an edited row, but not a deleted tail nor a chain recomputed from
the first edited row on: whoever can write the database can do both. An anchor (row count, id
and hash of the last row, time) is signed with HMAC-SHA256 under `AUDIT_ANCHOR_KEY` (else
`SECRET_KEY`), which the database never holds, and appended as one JSON line to
`AUDIT_ANCHOR_PATH` (by `matchmaker audit anchor` and the beat's `audit.anchor` task). `verify`
then checks the latest anchor: its signature, that the log still has at least that many rows,
and that the row at the anchored position carries the anchored hash. Any line whose signature
fails is reported as tampering.
"""

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from models.base import utcnow
from models.errors import DomainError
from models.settings import Settings
from services.audit import repository as repo


@dataclass(frozen=True)
class Anchor:
    """The chain's state at one moment: `rows` rows, the last one `last_id` hashing to `head`."""

    at: str
    rows: int
    last_id: int | None
    head: str

    def message(self) -> bytes:
        """The bytes the signature covers (canonical JSON)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def anchor_key(settings: Settings) -> bytes:
    """The signing key: AUDIT_ANCHOR_KEY, else SECRET_KEY; refused when neither is set."""
    key = settings.audit_anchor_key or settings.secret_key
    if not key:
        raise DomainError("未设置 AUDIT_ANCHOR_KEY 或 SECRET_KEY，无法签名或校验审计锚点")
    return key.encode()


def _sign(anchor: Anchor, key: bytes) -> str:
    return hmac.new(key, anchor.message(), hashlib.sha256).hexdigest()


def current_anchor(session: Session, now: datetime | None = None) -> Anchor:
    """The chain's present length and head."""
    rows = repo.chain_length(session)
    last = repo.chain_link(session)
    at = (now or utcnow()).isoformat(timespec="seconds")
    return Anchor(at, rows, last[0] if last else None, last[1] if last else "")


def write_anchor(session: Session, settings: Settings, now: datetime | None = None) -> Anchor:
    """Sign the chain's present state and append it to AUDIT_ANCHOR_PATH (flushed to disk)."""
    key = anchor_key(settings)
    anchor = current_anchor(session, now)
    path = Path(settings.audit_anchor_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(anchor) | {"sig": _sign(anchor, key)}, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
    return anchor


@dataclass(frozen=True)
class AnchorCheck:
    """The latest valid anchor (None when there is none) and the first problem found, if any."""

    anchor: Anchor | None
    problem: str | None


def _parse(line: str, key: bytes) -> Anchor | None:
    try:
        data = json.loads(line)
        anchor = Anchor(str(data["at"]), int(data["rows"]), data["last_id"], str(data["head"]))
        signature = str(data["sig"])
    except (ValueError, KeyError, TypeError):
        return None
    return anchor if hmac.compare_digest(_sign(anchor, key), signature) else None


def latest_anchor(settings: Settings) -> AnchorCheck:
    """The last anchor of the file; any line that is not a validly signed anchor is a problem."""
    path = Path(settings.audit_anchor_path)
    if not path.exists():
        return AnchorCheck(None, None)
    key = anchor_key(settings)
    latest: Anchor | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        anchor = _parse(line, key)
        if anchor is None:
            return AnchorCheck(latest, f"锚点文件第 {number} 行签名无效或格式错误（锚点被篡改）")
        if latest is not None and anchor.rows < latest.rows:
            return AnchorCheck(latest, f"锚点文件第 {number} 行的条数少于前一锚点（锚点被篡改）")
        latest = anchor
    return AnchorCheck(latest, None)


def check_against(session: Session, anchor: Anchor) -> str | None:
    """The first way the log disagrees with `anchor` (Chinese), or None."""
    rows = repo.chain_length(session)
    if rows < anchor.rows:
        return f"审计日志现有 {rows} 条，少于锚点（{anchor.at}）记录的 {anchor.rows} 条：尾部记录被删除"
    if anchor.rows == 0:
        return None
    if repo.chain_link(session, anchor.rows) != (anchor.last_id, anchor.head):
        return (f"第 {anchor.rows} 条记录的哈希与锚点（{anchor.at}）不一致："
                "链被重算或记录被删除")  # fmt: skip
    return None
