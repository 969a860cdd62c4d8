"""`matchmaker serve --workers 2` as a real process: the supervisor alone listens and hands keep-alive
connections opened together evenly to both workers, a killed worker is replaced, SIGTERM stops
everything."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.balanced import can_balance, listening_socket
from models.db import make_engine
from models.migrate import upgrade_to_head

pytestmark = pytest.mark.skipif(not can_balance(), reason="handing connections over is Linux-only")
WORKERS = 2
CONNECTIONS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for task in tasks.iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def _workers(pid: int) -> list[int]:
    """The server's worker processes (not the resource tracker multiprocessing may start)."""
    return [child for child in _children(pid) if _is_worker(child)]


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in command and b"resource_tracker" not in command


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets whose local port is `port`, in `state` (01 established,
    0A listening)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            out.add(fields[9])
    return out


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not answer /health in time")


def _wait_workers(pid: int, timeout: float = 90) -> None:
    """Until the server has all its workers (/health answers as soon as one is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_workers(pid)) == WORKERS:
            return
        time.sleep(0.3)
    raise AssertionError("the workers did not start")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    database = f"sqlite:///{tmp_path / 'center.sqlite'}"
    upgrade_to_head(make_engine(database))
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database, "SECRET_KEY": "balanced-test-" + "k" * 40}
    command = [str(Path(sys.executable).parent / "matchmaker"), "serve", "--port", str(port),
               "--workers", str(WORKERS)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        _wait_workers(process.pid)
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _open_keep_alive(port: int, count: int, timeout: float = 90) -> list[socket.socket]:
    """`count` connections opened at once, each answered once (within `timeout` s) and kept
    open."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    request = b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\n"
    for conn in connections:
        conn.sendall(request)
    for conn in connections:
        conn.settimeout(timeout)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    return connections


def test_keep_alive_connections_opened_together_are_handed_evenly_to_the_workers(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    workers = _workers(process.pid)
    assert len(workers) == WORKERS
    # The supervisor alone listens (uvicorn's workers share one socket and race to accept it).
    listening = _sockets_on(port, "0A")
    assert len(listening) == 1 and listening <= _socket_inodes(process.pid)
    assert not any(_socket_inodes(pid) & listening for pid in workers)
    time.sleep(2)  # the start-up's /health connections closed, and each worker counted its own
    connections = _open_keep_alive(port, CONNECTIONS)
    try:
        established = _sockets_on(port, "01")
        per_worker = [len(_socket_inodes(pid) & established) for pid in workers]
        # Each to the worker with the fewest open: even, but for a close a worker has not
        # counted yet (a hash of the client's address split 50 as 30 / 21 in a load run).
        assert max(per_worker) - min(per_worker) <= 2, per_worker
        assert not _socket_inodes(process.pid) & established  # handed over, not kept
    finally:
        for conn in connections:
            conn.close()


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    victim = _workers(process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        workers = _workers(process.pid)
        if len(workers) == WORKERS and victim not in workers:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the killed worker was not replaced")
    _wait_healthy(f"http://127.0.0.1:{port}", process)
    # Every connection is answered, by both workers (the new worker's once it is up).
    for conn in _open_keep_alive(port, 20, timeout=90):
        conn.close()
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]  # fmt: skip


def test_a_taken_port_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port)


def test_port_zero_gives_a_free_port() -> None:
    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.getsockname()[1] != 0
