"""An import row's original cells as `import_row.raw` keeps them (a JSON object, label → cell).

A text cell longer than `RAW_CELL_CHARS` is kept as its first `RAW_CELL_CHARS` characters and a
marker saying how long it was: the row is kept for the quarantine file and the audit trail, and
a refused row of huge cells must not grow the database by their size.
"""

from __future__ import annotations

from datetime import date
from typing import Any

#: Characters of a text cell `import_row.raw` keeps (the longest field an import accepts,
#: MAX_LONG_TEXT, fits whole); the rest is replaced by `clipped`'s marker.
RAW_CELL_CHARS = 2000


def clipped(value: Any) -> Any:
    """`value`, or a text longer than `RAW_CELL_CHARS` cut there with a marker of its length."""
    if isinstance(value, str) and len(value) > RAW_CELL_CHARS:
        return f"{value[:RAW_CELL_CHARS]}…（已截断，原有 {len(value):,} 个字符）"
    return value


def stored_raw(raw: dict[str, Any]) -> dict[str, Any]:
    """The cells of a row as `import_row.raw` keeps them: JSON-safe, long text clipped."""
    try:  # all text and none too long (every CSV row, as a rule): kept as it is
        if max(map(len, raw.values()), default=0) <= RAW_CELL_CHARS:
            return raw
    except TypeError:  # a cell that is not text
        pass
    return {k: clipped(json_safe(v)) for k, v in raw.items()}


def json_safe(value: Any) -> Any:
    """A cell as JSON can hold it: dates as ISO text, other unknown types as `str`."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
