"""Where an uploaded spreadsheet lives while it is imported, and the checks on its name.

Each upload gets a folder of its own, `mm-upload-<pid>-…` under `upload_tmp_dir` (default: the
system's temporary directory), removed in `finally` when the import ends, fails or is cancelled.
A process that dies mid-import (killed, out of memory) leaves its folder behind: every worker
removes, at start, the folders of processes that no longer run (`remove_stale_uploads`).
"""

import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import DomainError
from models.settings import Settings

UPLOAD_PREFIX = "mm-upload-"
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


__all__ = ["checked_name", "remove_stale_uploads", "upload_folder", "upload_root"]
