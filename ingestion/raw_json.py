"""An import row's original cells (`import_row.raw`) as compact JSON text.

The column holds a JSON object of header label → cell. A CSV chunk is all text, and its cells
rarely hold a character JSON escapes (`"`, `\\`, control characters): then each row is one
`%` into a per-header template (`encode_rows`, built once per chunk by the parser). Any other
row goes through `encode_raw`: the C string encoder, or the general encoder for typed xlsx
cells, which writes dates as ISO text like `json_safe`. Read back, the text is what
`json.dumps` of the JSON-safe cells gives (non-ASCII written as it is, no spaces).

A text cell longer than `RAW_CELL_CHARS` is kept as its first `RAW_CELL_CHARS` characters and a
marker saying how long it was: the row is kept for the quarantine file and the audit trail, and
a refused row of huge cells must not grow the database by their size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from itertools import chain
from json.encoder import encode_basestring
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
    return {k: clipped(json_safe(v)) for k, v in raw.items()}


def json_safe(value: Any) -> Any:
    """A cell as JSON can hold it: dates as ISO text, other unknown types as `str`."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, default=json_safe
)
_TEMPLATES: dict[tuple[str, ...], tuple[str, list[str]]] = {}
_add = str.__add__
#: What JSON strings escape (`json.encoder.ESCAPE`, without ensure_ascii): text free of these
#: is written between quotes as it is.
_ESCAPED = re.compile(r'[\x00-\x1f\\"]')


def encode_raw(raw: dict[str, Any]) -> str:
    """`raw` as compact JSON text (what `json.dumps` gives, read back, for every cell type),
    its long text cells clipped (`stored_raw`).

    Text cells — every cell of a CSV — are formatted into a per-header template when none
    needs escaping, else encoded by the C string encoder; a row holding anything else (empty
    or typed cells of an xlsx) takes the general encoder, which writes dates as ISO text like
    `json_safe`.
    """
    if any(isinstance(v, str) and len(v) > RAW_CELL_CHARS for v in raw.values()):
        raw = stored_raw(raw)
    labels = tuple(raw)
    template, keys = _TEMPLATES.get(labels) or _template(labels)
    values = tuple(raw.values())
    try:
        joined = "".join(values)
    except TypeError:  # a cell that is not text
        return _ENCODER.encode(raw)
    if _ESCAPED.search(joined) is None:
        return template % values
    return "{" + ",".join(map(_add, keys, map(encode_basestring, values))) + "}"


def encode_rows(labels: Sequence[str], rows: list[list[Any]]) -> list[str | None]:
    """`encode_raw` of each row's `dict(zip(labels, cells))`, for a chunk of text-only rows.

    When every cell of the chunk is text and none needs escaping (every CSV chunk, as a rule),
    each row is one `%` into the header's template; otherwise None for each row, and the
    writer encodes the row's `raw` itself (so, too, when a cell is to be clipped).
    """
    unusable: list[str | None] = [None] * len(rows)
    width = len(labels)
    if len(set(labels)) != width or any(len(cells) != width for cells in rows):
        return unusable
    try:
        joined = "".join(chain.from_iterable(rows))
    except TypeError:  # a cell that is not text
        return unusable
    if _ESCAPED.search(joined) is not None:
        return unusable
    if max(map(len, chain.from_iterable(rows)), default=0) > RAW_CELL_CHARS:
        return unusable
    template = (_TEMPLATES.get(tuple(labels)) or _template(tuple(labels)))[0]
    return [template % tuple(cells) for cells in rows]


def _template(labels: tuple[str, ...]) -> tuple[str, list[str]]:
    if len(_TEMPLATES) >= 64:
        _TEMPLATES.clear()
    keys = [encode_basestring(label) + ":" for label in labels]
    template = "{" + ",".join(k.replace("%", "%%") + '"%s"' for k in keys) + "}"
    _TEMPLATES[labels] = (template, keys)
    return template, keys
