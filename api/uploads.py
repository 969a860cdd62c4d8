"""Where an uploaded spreadsheet lives while it is imported, and the checks on its name.

Each upload gets a folder of its own, `mm-upload-<pid>-…` under `upload_tmp_dir` (default: the
system's temporary directory), removed in `finally` when the import ends, fails or is cancelled.
A process that dies mid-import (killed, out of memory) leaves its folder behind: every worker
removes, at start, the folders of processes that no longer run (`remove_stale_uploads`).
"""

import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import DomainError
from models.settings import Settings

UPLOAD_PREFIX = "mm-upload-"
PREVIEW_PREFIX = "mm-preview-"
#: A previewed upload waits this long for its confirmation, then goes at the next preview.
PREVIEW_MAX_AGE = 3600.0
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_NAME_BYTES = 255  # a file name on Linux (NAME_MAX), and `import_batch.file_name`


def checked_name(filename: str | None, default: str) -> str:
    """The upload's base name; 400 when it holds a control character (NUL, a line break …: no
    file may be named so) or is longer than a file name may be."""
    if filename and any(unicodedata.category(char) == "Cc" for char in filename):
        raise DomainError("文件名含有控制字符（如空字符、换行符），请改名后重新上传", field="file")
    name = Path(filename or default).name or default
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise DomainError(f"文件名过长：最多 {MAX_NAME_BYTES} 字节（约 {MAX_NAME_BYTES // 3} 个汉字），"
                          "请改短文件名后重新上传", field="file")  # fmt: skip
    return name


def upload_root(settings: Settings) -> Path:
    """The directory the upload folders are made in."""
    return Path(settings.upload_tmp_dir or tempfile.gettempdir())


@contextmanager
def upload_folder(settings: Settings) -> Iterator[Path]:
    """A new folder for one upload, named after this process; removed when the block ends."""
    root = upload_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_uploads(settings: Settings) -> list[Path]:
    """Remove the upload folders of processes that no longer run; the folders removed."""
    removed = []
    for folder in upload_root(settings).glob(f"{UPLOAD_PREFIX}*"):
        pid = folder.name.removeprefix(UPLOAD_PREFIX).split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def preview_folder(settings: Settings) -> tuple[str, Path]:
    """A new folder for an upload kept between its preview and its confirmation: a random
    token names it (the confirm form sends it back). Folders older than `PREVIEW_MAX_AGE` go."""
    root = upload_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(f"{PREVIEW_PREFIX}*"):
        if old.is_dir() and time.time() - old.stat().st_mtime > PREVIEW_MAX_AGE:
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_urlsafe(16)
    folder = root / f"{PREVIEW_PREFIX}{token}"
    folder.mkdir()
    return token, folder


def previewed_file(settings: Settings, token: str) -> Path:
    """The file kept under `token`; a Chinese `DomainError` when it is unknown or gone."""
    folder = upload_root(settings) / f"{PREVIEW_PREFIX}{token}"
    files = sorted(folder.iterdir()) if _TOKEN.fullmatch(token) and folder.is_dir() else []
    if not files:
        raise DomainError("预览已过期或已处理，请重新上传文件", field="token")
    return files[0]


def discard_preview(settings: Settings, token: str) -> None:
    """Remove the folder kept under `token` (confirmed or cancelled)."""
    if _TOKEN.fullmatch(token):
        shutil.rmtree(upload_root(settings) / f"{PREVIEW_PREFIX}{token}", ignore_errors=True)


__all__ = [
    "checked_name",
    "discard_preview",
    "preview_folder",
    "previewed_file",
    "remove_stale_uploads",
    "upload_folder",
    "upload_root",
]
