"""An import row's original cells (`import_row.raw`) as compact JSON text.

The column holds a JSON object of header label → cell. A CSV chunk is all text, and its cells
rarely hold a character JSON escapes (`"`, `\\`, control characters): then each row is one
`%` into a per-header template (`encode_rows`, built once per chunk by the parser). Any other
row goes through `encode_raw`: the C string encoder, or the general encoder for typed xlsx
cells, which writes dates as ISO text like `json_safe`. Read back, the text is what
`json.dumps` of the JSON-safe cells gives (non-ASCII written as it is, no spaces).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from itertools import chain
from json.encoder import encode_basestring
from typing import Any


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
    """`raw` as compact JSON text (what `json.dumps` gives, read back, for every cell type).

    Text cells — every cell of a CSV — are formatted into a per-header template when none
    needs escaping, else encoded by the C string encoder; a row holding anything else (empty
    or typed cells of an xlsx) takes the general encoder, which writes dates as ISO text like
    `json_safe`.
    """
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
    writer encodes the row's `raw` itself.
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
    template = (_TEMPLATES.get(tuple(labels)) or _template(tuple(labels)))[0]
    return [template % tuple(cells) for cells in rows]


def _template(labels: tuple[str, ...]) -> tuple[str, list[str]]:
    if len(_TEMPLATES) >= 64:
        _TEMPLATES.clear()
    keys = [encode_basestring(label) + ":" for label in labels]
    template = "{" + ",".join(k.replace("%", "%%") + '"%s"' for k in keys) + "}"
    _TEMPLATES[labels] = (template, keys)
    return template, keys
