"""Converting a sheet in a child process (`ingestion.parse_process`): the same rows as in one
process, in order; a child that dies or meets a bad byte changes nothing but where the work runs."""

import fcntl
import gc
import os
import pickle
import random
import resource
import select
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from ingestion import parse_process
from ingestion.headers import header_candidates, map_headers
from ingestion.parse_process import SheetSpec, parsed_chunks
from ingestion.readers import Sheet, Skipped, open_source
from ingestion.uscc import make_uscc
from ingestion.validate import ParsedRow, RowParser
from models.errors import DomainError
from models.reference import ImportKind
from services.imports.service import _checked_header, import_file
from tests.ingestion.helpers import write_csv, write_xlsx
from tests.ingestion.test_chunks import _result

HEADER = ["序号", "企业名称", "统一社会信用代码", "拟融资金额（万元）", "融资方式", "成立日期"]
CHUNK = 40
PATIENCE_S = 20.0  # how long a slow consumer waits for the child before giving up


def _rows(n: int, seed: int = 5) -> list[list[Any]]:
    """Demand rows with title, blank and subtotal rows, bad check characters and bad amounts."""
    rng = random.Random(seed)
    rows: list[list[Any]] = [["2024年XX区科技型企业融资需求汇总表"], HEADER]
    for i in range(n):
        uscc = make_uscc(rng, "440305") if rng.random() < 0.7 else ""
        if uscc and rng.random() < 0.05:
            uscc = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")  # a wrong check character
        amount = rng.choice(["500", "1,200", "0.3亿", "未披露", "很多"])
        rows.append([i, f"深圳市睿擎{i % 700:04d}科技有限公司", uscc, amount,
                     rng.choice(["信用贷款", "股权融资"]), rng.choice(["2019-03-01", "2020年5月"])])  # fmt: skip
        if rng.random() < 0.01:
            rows.append(["", "", "", "", "", ""])
        if rng.random() < 0.005:
            rows.append(["合计", "", "", "99999", "", ""])
    return rows


def _seen(rows: list[ParsedRow]) -> list[tuple[Any, ...]]:
    """What the loading sees of each row (`raw` whether carried or decoded from `raw_json`)."""
    return [(r.number, r.sheet, r.raw, r.columns, r.values, r.problems, r.notes, r.raw_json)
            for r in rows]  # fmt: skip


def _converted(
    path: Path, *, process: bool, on_chunk: Any = None, sheet_name: str | None = None
) -> tuple[list[ParsedRow], tuple[int, list[int]]]:
    """Every converted row of the file (or of one sheet), and its skipped (blank, subtotal) rows."""
    source = open_source(path)
    try:
        sheet = next(s for s in source.sheets if sheet_name in (None, s.name))
        header = _checked_header(sheet, sheet.kind, {})  # type: ignore[arg-type]
        spec = SheetSpec(path, None, sheet.name or None, ())
        rows: list[ParsedRow] = []
        for index, chunk in enumerate(parsed_chunks(spec, sheet, header, CHUNK, process=process)):
            rows.extend(chunk)
            if on_chunk is not None:
                on_chunk(index)
        return rows, (sheet.skipped.blank, list(sheet.skipped.subtotal))
    finally:
        source.close()


class _Watch:
    """Counts the chunks converted in this process and lets the child start before going on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.here = 0
        self.children: list[Any] = []
        self.fds: list[int] = []  # the children's pipes, as numbered while open
        self.pipe_bytes: list[int] = []  # and their sizes
        parse_many, start = RowParser.parse_many, parse_process._Child.start

        def counted(parser: RowParser, chunk: list[Any]) -> list[ParsedRow]:
            self.here += 1
            return parse_many(parser, chunk)

        def started(job: Any) -> Any:
            child = start(job)
            self.children.append(child)
            self.fds.append(child.out.fileno())
            self.pipe_bytes.append(fcntl.fcntl(child.out.fileno(), fcntl.F_GETPIPE_SZ))
            return child

        monkeypatch.setattr(RowParser, "parse_many", counted)
        monkeypatch.setattr(parse_process._Child, "start", staticmethod(started))

    def slow_until_switched(self, index: int) -> None:
        """Wait while the child is still starting (this process converted every chunk so far)."""
        deadline = time.monotonic() + PATIENCE_S
        if self.children and self.here == index + 1 and index < 3:
            while time.monotonic() < deadline and not self._child_said_ready():
                time.sleep(0.05)

    def _child_said_ready(self) -> bool:
        child = self.children[0]
        if child is None:
            return True
        waiting = select.poll()
        waiting.register(child.out.fileno(), select.POLLIN)
        return bool(waiting.poll(0))


def test_the_child_converts_the_same_rows_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "demands.csv", _rows(3000))
    expected, skipped = _converted(path, process=False)
    watch = _Watch(monkeypatch)
    rows, skipped_too = _converted(path, process=True, on_chunk=watch.slow_until_switched)
    chunks = -(-len(expected) // CHUNK)
    assert watch.here < chunks // 2  # the child converted most of the chunks
    assert sum(r.cells is None for r in rows) > len(rows) // 2  # decoded only when asked for
    assert _seen(rows) == _seen(expected)
    assert skipped_too == skipped and skipped[0] > 0 and skipped[1]
    assert any(r.problems for r in rows) and all(r.raw_json for r in rows)
    assert watch.children[0].proc.poll() is not None  # reaped
    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) >= parse_process.PIPE_BYTES:
        assert watch.pipe_bytes[0] == parse_process.PIPE_BYTES  # a chunk in one write


def test_an_xlsx_child_reads_and_this_process_converts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For xlsx the child only streams the rows (openpyxl is the slow part); the same rows come
    out, typed cells (dates, numbers) included, from the second of two sheets."""
    rows = _rows(1500, seed=21)
    for row in rows[2::7]:
        row[5] = datetime(2020, 5, 1)  # a date cell
        row[3] = 500.0  # a number cell
    path = write_xlsx(tmp_path / "demands.xlsx", {"说明": [["填表说明"]], "需求": rows})
    expected, skipped = _converted(path, process=False, sheet_name="需求")
    watch = _Watch(monkeypatch)
    got, skipped_too = _converted(path, process=True, on_chunk=watch.slow_until_switched,
                                  sheet_name="需求")  # fmt: skip
    assert watch.children[0].converts is False
    assert watch.children[0].skipped is not None  # its stream was taken to the END frame
    assert watch.here == -(-len(expected) // CHUNK)  # every chunk converted in this process
    assert _seen(got) == _seen(expected) and skipped_too == skipped
    assert any(isinstance(r.raw["成立日期"], datetime) for r in got)


def test_a_child_killed_midway_leaves_the_rows_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "demands.csv", _rows(3000, seed=8))
    expected, skipped = _converted(path, process=False)
    watch = _Watch(monkeypatch)

    def kill_after_some(index: int) -> None:
        watch.slow_until_switched(index)
        if index == 10:
            assert watch.here < 10  # the child is converting by now
            watch.children[0].proc.send_signal(signal.SIGKILL)

    rows, skipped_too = _converted(path, process=True, on_chunk=kill_after_some)
    assert _seen(rows) == _seen(expected) and skipped_too == skipped
    assert watch.here > 15  # this process converted the rest


def test_a_file_changed_under_a_dead_child_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Falling back means reading the file again: if it is no longer the same table, the
    import stops with a clear message instead of loading rows of another file."""
    path = write_csv(tmp_path / "demands.csv", _rows(3000, seed=9))
    watch = _Watch(monkeypatch)

    def kill_and_change(index: int) -> None:
        watch.slow_until_switched(index)
        if index == 10:
            watch.children[0].proc.send_signal(signal.SIGKILL)
            write_csv(path, _rows(3000, seed=9)[1:])  # the title row gone: the header moves up

    with pytest.raises(DomainError, match="在导入过程中被修改"):
        _converted(path, process=True, on_chunk=kill_and_change)


def test_a_bad_byte_midway_raises_the_same_error_with_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encoding is detected on the first MiB; a byte it cannot decode after that stops the
    import with the same message whichever process meets it first."""
    path = write_csv(tmp_path / "demands.csv", _rows(16_000))
    data = path.read_bytes()
    cut = data.index(b"\n", 1 << 20) + 1
    path.write_bytes(data[:cut] + b"\xff\xfe," + data[cut:])

    def error(process: bool) -> str:
        watch = _Watch(monkeypatch)
        with pytest.raises(DomainError) as caught:
            _converted(path, process=process, on_chunk=watch.slow_until_switched)
        return caught.value.message

    alone = error(False)
    assert "无法按已识别编码解码" in alone
    assert error(True) == alone


def test_an_import_with_a_child_stores_what_one_without_stores(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "demands.csv", _rows(2500, seed=13))
    counters = ("rows_read", "inserted", "updated", "unchanged", "merged", "quarantined", "review")
    alone = session.begin_nested()
    one = import_file(session, path, chunk_size=CHUNK, parse_process=False)
    expected = _result(session, one.batch_id)
    alone.rollback()
    watch = _Watch(monkeypatch)
    done = iter(range(10**6))
    two = import_file(session, path, chunk_size=CHUNK, parse_process=True,
                      progress=lambda _rows: watch.slow_until_switched(next(done)))  # fmt: skip
    assert watch.here < 20
    assert _result(session, two.batch_id) == expected
    assert [getattr(two, c) for c in counters] == [getattr(one, c) for c in counters]
    assert two.skipped_blank == one.skipped_blank > 0
    assert two.skipped_subtotal == one.skipped_subtotal != []


def test_small_files_and_one_core_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not parse_process.want_process(None)
    assert not parse_process.want_process(parse_process.MIN_ROWS - 1)
    assert parse_process.want_process(parse_process.MIN_ROWS)
    monkeypatch.setattr(parse_process.os, "cpu_count", lambda: 1)
    assert not parse_process.want_process(10**6)


def test_a_process_with_many_open_files_still_uses_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy web server's pipes may be numbered past 1,024, where `select` refuses them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the open-file limit ({hard}) is below 1,200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        path = write_csv(tmp_path / "demands.csv", _rows(2000, seed=3))
        expected, skipped = _converted(path, process=False)
        watch = _Watch(monkeypatch)
        rows, skipped_too = _converted(path, process=True, on_chunk=watch.slow_until_switched)
        assert watch.fds[0] >= 1024
        assert watch.here < -(-len(expected) // CHUNK) // 2
        assert _seen(rows) == _seen(expected) and skipped_too == skipped
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class _FakeProc:
    """A `Popen` stand-in whose stdout is a pipe the test writes frames into."""

    def __init__(self, frames: bytes) -> None:
        read, write = os.pipe()
        os.write(write, frames)
        os.close(write)
        self.stdout = os.fdopen(read, "rb", buffering=0)
        self.stdin = None

    def poll(self) -> int:
        return 0

    def wait(self) -> int:
        return 0


def _frame(index: int, payload: Any = None, length: int | None = None, raw: bytes = b"") -> bytes:
    data = raw if payload is None else pickle.dumps(payload)
    return parse_process._FRAME.pack(index, len(data) if length is None else length) + data


@pytest.mark.parametrize(
    ("frames", "what"),
    [
        (_frame(0, length=1 << 62), "a length no chunk has"),
        (_frame(0, 42), "a payload that is no chunk"),
        (_frame(0, ([1, 2], {})), "rows that are not converted rows"),
        (_frame(0, raw=b"\x80\x05garbled"), "bytes that do not unpickle"),
        (_frame(3, ([], ([], [], [], [], []))), "a chunk out of order"),
        (_frame(parse_process._END, "done"), "an END frame without the skipped rows"),
    ],
    ids=["length", "not-a-chunk", "not-rows", "not-a-pickle", "out-of-order", "bad-end"],
)
def test_a_garbled_frame_makes_the_child_broken_not_the_import(frames: bytes, what: str) -> None:
    child = parse_process._Child(_FakeProc(frames), converts=True)  # type: ignore[arg-type]
    header = map_headers(header_candidates(HEADER, None), ImportKind.demands, {})
    parser = RowParser("", header)
    assert list(child.chunks_from(0, parser)) == [], what
    assert child.broken or not child.finished(Sheet("", 1, [], iter(()), Skipped())), what
    child.out.close()


def test_overlapping_imports_leave_the_collector_as_they_found_it() -> None:
    """Two imports on two threads of the web server, the first finishing first: the threshold
    is raised while either runs and restored when the last one ends."""
    from services.imports.service import GC_THRESHOLD, _fewer_collections

    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    try:
        first, second = _fewer_collections(), _fewer_collections()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert gc.get_threshold()[0] == GC_THRESHOLD  # the second import still runs
        second.__exit__(None, None, None)
        assert gc.get_threshold()[0] == 700
    finally:
        gc.set_threshold(*before)
