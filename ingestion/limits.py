"""The limits on what an imported file may hold, in one place, whichever reader reads it.

A file beyond a limit is refused as a whole, before anything is written, with a Chinese message
that names the file (and sheet), where the limit was met and the limit itself. The values are read
once per process from the environment (prefix `IMPORT_`, e.g. `IMPORT_MAX_ROWS=200000`, or `.env`);
characters per cell and cells per row are Excel's own limits and fixed.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from models.errors import DomainError
from models.settings import DotEnvSettings

#: Excel's own limit on the characters in one cell; no file Excel wrote holds a longer one.
MAX_CELL_CHARS = 32_767
#: Excel's own limit on the columns of a sheet (A … XFD): a longer row is no Excel row.
MAX_ROW_CELLS = 16_384


class ImportLimits(DotEnvSettings):
    """The limits a deployment may change (environment variables `IMPORT_<NAME>`)."""

    model_config = SettingsConfigDict(
        env_prefix="IMPORT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    max_columns: int = Field(default=500, ge=1, description="Columns of a header row.")
    max_rows: int = Field(default=1_000_000, ge=1, description="Rows of a sheet (or CSV file).")
    max_cells: int = Field(
        default=20_000_000, ge=1, description="Cells of a sheet: rows × header columns."
    )
    max_row_chars: int = Field(
        default=1_000_000, ge=MAX_CELL_CHARS, description="Characters in one xlsx row."
    )
    max_sheet_bytes: int = Field(
        default=160 << 20,
        ge=1,
        description="Uncompressed bytes of one xlsx worksheet (streamed): about 3 times the "
        "54 MB of a 100,000-row demands workbook (benchmarks/ingest.py).",
    )
    max_part_bytes: int = Field(
        default=100 << 20,
        ge=1,
        description="Uncompressed bytes of any other xlsx part (shared strings, styles…: read whole).",
    )
    max_compression_ratio: int = Field(
        default=100, ge=1, description="Uncompressed ÷ compressed size of an xlsx part over 1 MiB."
    )


#: Parts up to this size are not held to the compression ratio (tiny parts compress very well).
RATIO_GRACE_BYTES = 1 << 20


@lru_cache
def import_limits() -> ImportLimits:
    """The process-wide limits (cached; `import_limits.cache_clear()` after changing them)."""
    return ImportLimits()


class LimitExceeded(DomainError):
    """A file holds more than a limit allows; the import is refused as a whole."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


def where(file_name: str, sheet: str | None = None) -> str:
    """'文件“a.xlsx”工作表“需求”' (or without the sheet), the start of every limit message."""
    return f"文件“{file_name}”" + (f"工作表“{sheet}”" if sheet else "")


def too_many_columns(place: str, count: int, limit: int) -> LimitExceeded:
    """The header row is wider than `max_columns`."""
    return LimitExceeded(
        f"{place}的表头有 {count:,} 列，超过上限 {limit:,} 列，请删去多余的列后重新导入"
    )


def too_many_rows(place: str, limit: int) -> LimitExceeded:
    """The sheet has more rows than `max_rows`."""
    return LimitExceeded(f"{place}超过 {limit:,} 行的上限，请拆分为多个文件后分批导入")


def too_many_cells(place: str, limit: int, columns: int | None = None) -> LimitExceeded:
    """The sheet holds more than `max_cells` cells (rows × `columns` header columns, if given)."""
    width = f"（表头 {columns:,} 列）" if columns is not None else ""
    return LimitExceeded(f"{place}超过 {limit:,} 个单元格的上限{width}，请拆分为多个文件后分批导入")


def cell_too_long(place: str, cell: str, length: int | None = None) -> LimitExceeded:
    """One cell (`cell` says which: '第12行“经营范围”列', '单元格 B12', …) holds too many characters."""
    count = f"（{length:,} 个字符）" if length is not None else ""
    return LimitExceeded(
        f"{place}{cell}的内容{count}超过每个单元格 {MAX_CELL_CHARS:,} 个字符的上限（Excel 的单元格上限）"
    )


def row_too_long(place: str, row: str, what: str, limit: int) -> LimitExceeded:
    """One xlsx row holds too many cells or characters."""
    return LimitExceeded(f"{place}第{row}行超过每行 {limit:,} 个{what}的上限")


def part_too_large(file_name: str, part: str, size: int, limit: int) -> LimitExceeded:
    """An xlsx part unpacks to more bytes than its limit."""
    return LimitExceeded(
        f"文件“{file_name}”中的 {part} 解压后{_mib(size)}，超过 {_mib(limit)} 的上限，"
        "请检查文件或拆分后分批导入"
    )


def part_too_compressed(file_name: str, part: str, ratio: float, limit: int) -> LimitExceeded:
    """An xlsx part unpacks to more than `max_compression_ratio` times its packed size."""
    return LimitExceeded(
        f"文件“{file_name}”中的 {part} 压缩比为 {ratio:,.0f} 倍，超过 {limit:,} 倍的上限"
        "（疑似“压缩炸弹”），已拒绝导入"
    )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB" if size >= 1 << 20 else f"{size:,} 字节"
