"""Reading and converting a large sheet in a second process, beside the loading.

An import's CPU goes to two halves that need different things. Reading the file and converting
its cells (`RowParser.parse_many`, ~21 µs a CSV row) needs only the file and the header; the
identity look-ups, rules and INSERTs (~43 µs) need the database and the batch's state, so they
stay in the importing process. For a sheet of at least `MIN_ROWS` estimated rows a child Python
process reads and converts the same sheet and hands each converted chunk over a pipe (pickled;
~3 µs a row to unpickle), so on two cores the halves overlap. An xlsx is the exception:
openpyxl's streaming alone costs ~106 µs a row, so that child only reads and sends the cells,
and the conversion stays here (`_child_converts`). With each chunk come the
de-duplication keys of its company names (`normalize.names_worked_out`: normalised name, 字号,
regions), which this process adds to its memos instead of working them out (100k rows:
4.1 µs a row of name keys here without the child; 1.3 left plus 0.7 to add them with it).

- **Same outcomes.** The child opens the file with the same `open_source` arguments, checks it
  found the same header row, and converts the same rows in the same chunks with the same header
  map; the loading takes the chunks in order.
- **Start-up is hidden.** The child needs ~0.2 s to start (0.7 s if it imported all of
  `models`). Until it says READY, this process converts chunks itself; then it tells the child
  to begin `LEAD` chunks ahead, converts those itself too, and takes the child's chunks from
  there. The child reads the rows before that point without converting them.
- **Flat memory.** The child blocks on a full pipe, so at most about one converted chunk waits.
- **Failures fall back.** If the child cannot start, exits early or sends something broken, the
  sheet is opened again here, the rows already handed over are skipped, and the rest is
  converted in this process. A fault in the file itself (bytes its encoding cannot decode) thus
  surfaces here, as the same `DomainError` at the same row as without a child.
- A plain subprocess, not `multiprocessing`, as in `matching.slate_process`: a daemonic Celery
  prefork worker may not have `multiprocessing` children.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import gc
import itertools
import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ingestion.headers import HeaderMap
from ingestion.normalize import learn_names, names_worked_out
from ingestion.readers import Sheet, open_source
from ingestion.validate import ParsedRow, RowParser
from models.errors import DomainError
from models.reference import ImportKind

#: Sheets estimated below this many rows are converted in the importing process alone.
MIN_ROWS = 20_000
ROOT = Path(__file__).resolve().parents[1]  # the child imports this very `ingestion`
_FRAME = struct.Struct("<qQ")  # chunk index or one of the kinds below, payload length
_END, _READY, _JOB = -1, -2, -3
_NAME_FIELDS = ("legal_name", "organisation")
PIPE_BYTES = 1 << 20  # the pipe's size asked for (`_widen`)
MAX_FRAME = 1 << 28  # 256 MiB: a chunk is ~1 MB; a longer length is a garbled frame
LEAD = 2  # chunks this process still converts after telling the child where to begin
_CHILD_GC_THRESHOLD = 10_000  # as the importing process (`service.GC_THRESHOLD`)


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """How the sheet was opened: enough for another process to open the same rows."""

    path: Path
    kind: ImportKind | None
    sheet: str | None
    extra_headers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Job:
    spec: SheetSpec
    header_row: int
    header: HeaderMap
    chunk_size: int
    convert: bool  # False: the child sends the rows as read, this process converts them


def _child_converts(path: Path) -> bool:
    """Whether the child should convert too, or only read.

    Reading a CSV costs ~3 µs a row, so the child converts as well (~21 µs) and the importing
    process is left the loading. Streaming an xlsx with openpyxl costs ~106 µs a row, so the
    child only reads, and the conversion (~14 µs) stays with the loading (~57 µs), which
    would otherwise wait for the child.
    """
    return path.suffix.lower() not in (".xlsx", ".xlsm")


def chunked(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[Any]]:
    """`rows` in lists of `size` (the last one shorter)."""
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def want_process(estimated_rows: int | None) -> bool:
    """Whether a sheet this large is worth a second process (and there is a second core)."""
    big = (estimated_rows or 0) >= MIN_ROWS
    return big and (os.cpu_count() or 1) > 1 and os.name == "posix"  # `poll` on pipes


def parsed_chunks(
    spec: SheetSpec, current: Sheet, header: HeaderMap, chunk_size: int, *, process: bool
) -> Iterator[list[ParsedRow]]:
    """The sheet's rows converted, `chunk_size` at a time, in order (see the module doc).

    With `process` a child converts them beside the caller. Either way, `current.skipped`
    holds the blank and subtotal rows of the whole sheet once the iterator is exhausted.
    """
    parser = RowParser(current.name, header)
    own = chunked(current.rows, chunk_size)
    job = _Job(spec, current.header_row, header, chunk_size, _child_converts(spec.path))
    child = _Child.start(job) if process else None
    done = 0  # chunks handed out
    last = 0  # number of the last row handed out
    try:
        switch_at: int | None = None  # the first chunk the child converts
        for chunk in own:
            yield parser.parse_many(chunk)
            done, last = done + 1, chunk[-1][0]
            if child is not None and switch_at is None and child.ready():
                switch_at = child.begin_at(done + LEAD)
            if switch_at is not None and done == switch_at:
                break
        else:
            return
        assert child is not None
        for rows in child.chunks_from(done, parser):
            yield rows
            done, last = done + 1, rows[-1].number if rows else last
        if child.finished(current):
            return
        for chunk in chunked(_rows_after(spec, current, last), chunk_size):
            yield parser.parse_many(chunk)
    finally:
        if child is not None:
            child.close()


def _rows_after(spec: SheetSpec, current: Sheet, last: int) -> Iterator[tuple[int, list[Any]]]:
    """The sheet opened afresh, rows after number `last`; its skipped rows become `current`'s."""
    source = open_source(spec.path, spec.kind, spec.sheet, spec.extra_headers)
    try:
        again = next((s for s in source.sheets if s.name == current.name), None)
        if again is None or again.header_row != current.header_row:
            raise DomainError(f"{spec.path.name} 在导入过程中被修改，请确认文件后重新导入")
        current.skipped = again.skipped
        yield from itertools.dropwhile(lambda row: row[0] <= last, again.rows)
    finally:
        source.close()


class _Child:
    """The converting child process and the two ends of its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], converts: bool) -> None:
        self.proc = proc
        self.converts = converts
        self.out: IO[bytes] = proc.stdout  # type: ignore[assignment]
        # `poll`, not `select`: a busy server's pipes may be numbered past select's 1,024.
        self.waiting = select.poll()
        self.waiting.register(self.out.fileno(), select.POLLIN)
        self.skipped: tuple[int, list[int]] | None = None  # from the END frame
        self.broken = False

    @classmethod
    def start(cls, job: _Job) -> _Child | None:
        """The child started and given its job; None if it cannot be started."""
        # The child needs `models.reference` and `models.errors` only: a bare `models` package
        # spares it `models/__init__` (every table, SQLModel, SQLAlchemy): 0.67 → 0.16 s.
        code = (
            f"import sys, types; sys.path.insert(0, {str(ROOT)!r}); "
            "models = types.ModuleType('models'); "
            f"models.__path__ = [{str(ROOT / 'models')!r}]; sys.modules['models'] = models; "
            "import ingestion.parse_process as p; p.main()"
        )
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,  # unbuffered: `poll` then tells truly whether a frame is waiting
            )
        except OSError:
            return None
        _widen(proc.stdout)
        child = cls(proc, job.convert)
        data = pickle.dumps(job)
        child._send(_FRAME.pack(_JOB, len(data)) + data)
        return child

    def ready(self) -> bool:
        """Whether the child is ready to convert (has sent READY); never waits.

        A child that ended or sent something else instead is broken, and never ready."""
        if self.broken or not self.waiting.poll(0):
            return False
        head = self._read(_FRAME.size)
        if head is None or _FRAME.unpack(head) != (_READY, 0):
            self.broken = True
        return not self.broken

    def begin_at(self, index: int) -> int | None:
        """Tell the child to convert from chunk `index` on; None if it cannot be told."""
        self._send(_FRAME.pack(index, 0))
        return None if self.broken else index

    def chunks_from(self, wanted: int, parser: RowParser) -> Iterator[list[ParsedRow]]:
        """Chunks `wanted`, `wanted` + 1, … until the END frame or a fault (converted here
        by `parser` if the child only reads)."""
        while not self.broken:
            head = self._read(_FRAME.size)
            if head is None:
                return
            index, length = _FRAME.unpack(head)
            if index not in (wanted, _END) or length > MAX_FRAME:
                self.broken = True
                return
            payload = self._payload(length)
            if self.broken:
                return
            if index == _END:
                self.skipped = payload if _is_skipped(payload) else None
                return
            rows = self._rows(payload, parser)
            if rows is None:
                return
            yield rows
            wanted += 1

    def _rows(self, payload: Any, parser: RowParser) -> list[ParsedRow] | None:
        """The chunk a frame carries, converted here if the child only reads; None (and
        broken) if it is not what the child sends."""
        if not self.converts:
            if isinstance(payload, list) and all(_is_read_row(r) for r in payload):
                return parser.parse_many(payload)
        elif isinstance(payload, tuple) and len(payload) == 2:
            rows, names = payload
            if isinstance(rows, list) and all(type(r) is ParsedRow for r in rows):
                learn_names(names)
                return rows
        self.broken = True
        return None

    def finished(self, current: Sheet) -> bool:
        """Whether the child converted the whole sheet; if so `current` gets its skipped rows."""
        if self.broken or self.skipped is None:
            return False
        current.skipped.blank, current.skipped.subtotal = self.skipped
        return True

    def close(self) -> None:
        """Stop the child (it may be waiting on a full pipe) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.out):
            if pipe is not None:
                pipe.close()
        self.proc.wait()

    def _send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        view = memoryview(data)
        try:
            while view:  # a raw pipe may take a long write in parts
                view = view[self.proc.stdin.write(view) or 0 :]
        except OSError:  # BrokenPipeError: the child has ended
            self.broken = True

    def _payload(self, length: int) -> Any:
        data = self._read(length)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # whatever a garbled or foreign frame raises: fall back
            self.broken = True
            return None

    def _read(self, size: int) -> bytes | None:
        """Exactly `size` bytes off the pipe; None, and broken, at its end."""
        try:
            return _read_exact(self.out.fileno(), size)
        except EOFError:
            self.broken = True
            return None


def _widen(pipe: Any) -> None:
    """Let the pipe hold a whole chunk (Linux: 64 KiB → up to 1 MiB), so the child writes it
    in one go instead of a switch between the processes every 64 KiB."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux; above pipe-max-size
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _is_skipped(payload: Any) -> bool:
    """Whether an END frame's payload is (blank rows, subtotal row numbers)."""
    return (isinstance(payload, tuple) and len(payload) == 2 and type(payload[0]) is int
            and isinstance(payload[1], list))  # fmt: skip


def _is_read_row(row: Any) -> bool:
    """Whether `row` is a (row number, cells) pair as the readers yield them."""
    return isinstance(row, tuple) and len(row) == 2 and type(row[0]) is int


def main() -> None:
    """The child: take the job, open the sheet, say READY, wait for the chunk to begin at,
    then write that chunk and every later one, and END with the sheet's skipped rows.

    It exits without an END frame on any error: the importing process then converts the rest
    itself, and raises the file's own error (if that was it) where it would have anyway.
    """
    gc.set_threshold(_CHILD_GC_THRESHOLD)
    job: _Job = pickle.loads(_read_frame(0, _JOB))
    out = sys.stdout.buffer
    spec = job.spec
    source = open_source(spec.path, spec.kind, spec.sheet, spec.extra_headers)
    try:
        sheet = next(s for s in source.sheets if s.name == (spec.sheet or ""))
        if sheet.header_row != job.header_row:
            return
        out.write(_FRAME.pack(_READY, 0))
        out.flush()
        begin = _FRAME.unpack(_read_exact(0, _FRAME.size))[0]
        chunks = chunked(sheet.rows, job.chunk_size)
        collections.deque(itertools.islice(chunks, begin), maxlen=0)  # read, not converted
        parser = RowParser(sheet.name, job.header)
        for index, chunk in enumerate(chunks, begin):
            if not job.convert:
                _write(out, index, chunk)
                continue
            rows = parser.parse_many(chunk)
            _write(out, index, (rows, names_worked_out(_names(rows))))
        _write(out, _END, (sheet.skipped.blank, sheet.skipped.subtotal))
    finally:
        source.close()


def _names(rows: list[ParsedRow]) -> list[str]:
    """The distinct company names of the rows (an events sheet's 单位 too)."""
    found: dict[str, None] = {}
    for row in rows:
        for field in _NAME_FIELDS:
            name = row.values.get(field)
            if type(name) is str:
                found[name] = None
    return list(found)


def _read_frame(fd: int, kind: int) -> bytes:
    index, length = _FRAME.unpack(_read_exact(fd, _FRAME.size))
    if index != kind:
        raise ValueError(f"expected frame {kind}, got {index}")
    return _read_exact(fd, length)


def _read_exact(fd: int, size: int) -> bytes:
    """Exactly `size` bytes from `fd` (a pipe hands them over in parts); EOFError at its end."""
    parts, got = [], 0
    while got < size:
        part = os.read(fd, size - got)
        if not part:
            raise EOFError("the other process closed the pipe")
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _write(out: IO[bytes], index: int, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_FRAME.pack(index, len(data)))
    out.write(data)
    out.flush()
