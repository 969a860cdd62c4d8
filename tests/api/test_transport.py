"""`matchmaker serve` as a real process against clients on raw sockets: a chunked body without
credentials is refused before it is read (the server's memory stays put), a chunked body over the
bound is cut off while it streams, stalled bodies and headers are dropped in bounded time and
never keep the others waiting, one address cannot open connections without bound, and a client
that never reads its answers is dropped. The limits are set small through the environment."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

MATCHMAKER = str(Path(sys.executable).parent / "matchmaker")
PASSWORD = "transport-test-password-2026"
MB = 1024 * 1024
LIMITS = {
    "MAX_BODY_BYTES": str(2 * MB),
    "BODY_IDLE_TIMEOUT": "1.5",
    "BODY_TIMEOUT": "8",
    "HEADER_TIMEOUT": "1.5",
    "MAX_CONNECTIONS_PER_CLIENT": "16",
    "SEND_TIMEOUT": "2",
}
OTHER = "127.0.0.2"  # another client address (all of 127/8 is the loopback)


@dataclass(frozen=True)
class Served:
    """The running server: its process, port and a matchmaker's bearer token."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    uploads: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(served: Served, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert served.process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{served.url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer /health in time")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("transport")
    uploads = root / "tmp" / "uploads"
    uploads.parent.mkdir()
    env = os.environ | LIMITS | {
        "DATABASE_URL": f"sqlite:///{root / 'center.sqlite'}",
        "SECRET_KEY": "transport-test-" + "k" * 40, "UPLOAD_TMP_DIR": str(uploads),
        "TMPDIR": str(uploads.parent), "API_DOCS": "public",
    }  # fmt: skip
    subprocess.run([MATCHMAKER, "init-db"], env=env, check=True, capture_output=True)
    subprocess.run([MATCHMAKER, "users", "create", "--username", "mm", "--password", PASSWORD,
                    "--role", "matchmaker"], env=env, check=True, capture_output=True)  # fmt: skip
    port = _free_port()
    process = subprocess.Popen([MATCHMAKER, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        _wait_healthy(Served(process, port, "", uploads))
        reply = httpx.post(f"http://127.0.0.1:{port}/auth/token",
                           data={"username": "mm", "password": PASSWORD}, timeout=30)  # fmt: skip
        assert reply.status_code == 200, reply.text
        yield Served(process, port, reply.json()["access_token"], uploads)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Reader(threading.Thread):
    """Everything the server sends on `sock` until it closes it (or resets it)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock, self.data = sock, b""
        self.closed_at: float | None = None

    def run(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.data += chunk
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def status(self) -> int:
        """The status code of the response read."""
        assert self.data.startswith(b"HTTP/1.1 "), self.data[:200]
        return int(self.data[9:12])

    def problem(self) -> dict[str, object]:
        """The response's problem+json body."""
        parsed: dict[str, object] = json.loads(self.data.split(b"\r\n\r\n", 1)[1])
        return parsed


def _open(served: Served, head: str, source: str = "127.0.0.1") -> tuple[socket.socket, Reader]:
    sock = socket.create_connection(("127.0.0.1", served.port), source_address=(source, 0))
    sock.sendall(head.encode())
    reader = Reader(sock)
    reader.start()
    return sock, reader


def _chunked_flood(served: Served, head: str, total: int) -> tuple[int, Reader]:
    """Send `head` then up to `total` bytes of chunked body as fast as the server takes them;
    the bytes it took before it closed, and what it answered."""
    sock, reader = _open(served, head)
    piece = f"{MB:x}\r\n".encode() + b"x" * MB + b"\r\n"
    sent = 0
    sock.settimeout(10)
    try:
        while sent < total:
            sock.sendall(piece)
            sent += MB
        sock.sendall(b"0\r\n\r\n")
    except OSError:  # reset or closed by the server: it stopped reading
        pass
    reader.join(timeout=30)
    sock.close()
    return sent, reader


def _head(method: str, path: str, headers: dict[str, str]) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: test"] + [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def _rss(served: Served) -> int:
    return int(psutil.Process(served.process.pid).memory_info().rss)


def test_an_anonymous_chunked_post_is_refused_before_its_body_is_read(served: Served) -> None:
    before = _rss(served)
    head = _head("POST", "/enterprises", {"Content-Type": "application/json",
                                          "Transfer-Encoding": "chunked"})  # fmt: skip
    sent, reader = _chunked_flood(served, head, 200 * MB)
    assert reader.status() == 401
    assert "认证" in str(reader.problem()["detail"])
    assert sent < 32 * MB  # the kernel's buffers, not the server, took what was sent
    assert _rss(served) - before < 40 * MB


def test_an_anonymous_chunked_upload_never_reaches_the_disk(served: Served) -> None:
    files_before = {p.name for p in Path(served.uploads.parent).iterdir()}
    head = _head("POST", "/imports", {"Content-Type": "multipart/form-data; boundary=b",
                                      "Transfer-Encoding": "chunked"})  # fmt: skip
    sock, reader = _open(served, head)
    part = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n")  # fmt: skip
    sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    sock.settimeout(10)
    sent = 0
    try:
        for _ in range(100):
            sock.sendall(f"{MB:x}\r\n".encode() + b"a" * MB + b"\r\n")
            sent += MB
    except OSError:
        pass
    reader.join(timeout=30)
    sock.close()
    assert reader.status() == 401
    assert sent < 32 * MB
    assert {p.name for p in Path(served.uploads.parent).iterdir()} == files_before
    assert not [f for f in psutil.Process(served.process.pid).open_files()
                if f.path.startswith(str(served.uploads.parent))]  # fmt: skip


def test_an_authenticated_chunked_body_is_cut_off_at_the_bound(served: Served) -> None:
    before = _rss(served)
    head = _head("POST", "/enterprises", {"Content-Type": "application/json",
                                          "Authorization": f"Bearer {served.token}",
                                          "Transfer-Encoding": "chunked"})  # fmt: skip
    sent, reader = _chunked_flood(served, head, 200 * MB)
    assert reader.status() == 413
    assert "2 MB" in str(reader.problem()["detail"])
    assert b"connection: close" in reader.data.lower()
    assert sent < 40 * MB
    assert _rss(served) - before < 40 * MB


def _stall(
    served: Served, path: str, headers: dict[str, str], source: str = "127.0.0.1"
) -> tuple[socket.socket, Reader]:
    """A request whose body (100 bytes announced) stops after 10."""
    head = _head("POST", path, headers | {"Content-Length": "100"})
    sock, reader = _open(served, head, source)
    sock.sendall(b"username=m")
    return sock, reader


def _timed_get(served: Served, path: str, headers: dict[str, str]) -> tuple[int, float]:
    started = time.monotonic()
    reply = httpx.get(f"{served.url}{path}", headers=headers, timeout=10)
    return reply.status_code, time.monotonic() - started


def test_stalled_anonymous_bodies_are_dropped_and_keep_no_one_waiting(served: Served) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    stalled = [_stall(served, "/auth/token", form) for _ in range(6)]
    time.sleep(0.3)
    bearer = {"Authorization": f"Bearer {served.token}"}
    status, took = _timed_get(served, "/auth/me", bearer)
    assert status == 200 and took < 1.0  # others are served meanwhile
    started = time.monotonic()
    for sock, reader in stalled:
        reader.join(timeout=10)
        sock.close()
        assert reader.status() == 408
        assert "请求体未能及时送达" in str(reader.problem()["detail"])
    assert time.monotonic() - started < 4


def test_stalled_authenticated_bodies_are_dropped_and_keep_no_one_waiting(
    served: Served,
) -> None:
    bearer = {"Authorization": f"Bearer {served.token}", "Content-Type": "application/json"}
    stalled = [_stall(served, "/enterprises", bearer, source)
               for source in ("127.0.0.1", "127.0.0.1", OTHER, OTHER)]  # fmt: skip
    time.sleep(0.4)
    status, took = _timed_get(served, "/auth/me", {"Authorization": f"Bearer {served.token}"})
    assert status == 200 and took < 1.0
    for sock, reader in stalled:
        reader.join(timeout=10)
        sock.close()
        assert reader.status() == 408
    assert httpx.get(f"{served.url}/health", timeout=5).status_code == 200


def test_slow_or_oversized_headers_are_dropped(served: Served) -> None:
    silent = socket.create_connection(("127.0.0.1", served.port))  # opens, says nothing
    sock, slow = _open(served, "")
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")  # ... and never the blank line
    silent_reader = Reader(silent)
    silent_reader.start()
    started = time.monotonic()
    for reader in (slow, silent_reader):
        reader.join(timeout=10)
        assert reader.status() == 408 and reader.closed_at is not None
        assert reader.closed_at - started < 4
    sock.close()
    silent.close()
    big, big_reader = _open(served, _head("GET", "/health", {"X-Filler": "a" * 20_000}))
    big_reader.join(timeout=10)
    big.close()
    assert big_reader.status() == 431


def test_one_address_opens_a_bounded_number_of_connections(served: Served) -> None:
    held = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(16)]
    try:
        time.sleep(0.3)
        extra, reader = _open(served, "")
        reader.join(timeout=10)
        extra.close()
        assert reader.status() == 429
        assert "连接过多" in str(reader.problem()["detail"])
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{served.url}/health", timeout=5).status_code == 200


def _never_reading(served: Served, path: str, count: int) -> socket.socket:
    """A connection from `OTHER` with a tiny receive buffer that sends `count` pipelined GETs of
    `path` and never reads an answer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.bind((OTHER, 0))
    sock.connect(("127.0.0.1", served.port))
    sock.settimeout(5)
    with contextlib.suppress(OSError):  # the server stopped reading (pipeline full) or dropped us
        sock.sendall(_head("GET", path, {}).encode() * count)
    return sock


def _connections_from(served: Served, address: str) -> int:
    found = psutil.Process(served.process.pid).net_connections(kind="tcp")
    return sum(1 for c in found if c.raddr and c.raddr.ip == address
               and c.status == psutil.CONN_ESTABLISHED)  # fmt: skip


def test_a_client_that_never_reads_its_responses_blocks_no_one_and_is_dropped(
    served: Served,
) -> None:
    """The re-test's attack: 4 connections with a tiny receive buffer, 1,500 pipelined GETs each,
    never a byte read. The server answers them into its buffers until writing pauses; each
    connection is then dropped SEND_TIMEOUT (2 s) later, ending the request its pending answer
    held. Meanwhile another address is served at once."""
    started = time.monotonic()
    readers = [_never_reading(served, "/console/login", 1500) for _ in range(4)]
    bearer = {"Authorization": f"Bearer {served.token}"}
    seen, last_get = 0, 0.0
    try:
        while time.monotonic() - started < 60:
            now, open_now = time.monotonic(), _connections_from(served, OTHER)
            seen = max(seen, open_now)
            if seen and not open_now:
                break
            if now - last_get > 1:  # while the unread answers pile up
                status, took = _timed_get(served, "/auth/me", bearer)
                assert status == 200 and took < 5  # served alongside the flood, not after it
                last_get = time.monotonic()
            time.sleep(0.1)
        assert seen == 4
        assert _connections_from(served, OTHER) == 0  # all dropped
        assert time.monotonic() - started < 30  # each dropped about SEND_TIMEOUT after pausing
        assert httpx.get(f"{served.url}/health", timeout=5).status_code == 200
    finally:
        for sock in readers:
            sock.close()
