"""`matchmaker serve --workers N`: N uvicorn processes; the supervisor accepts every connection and
hands it to the worker with the fewest open ones.

Clients keep their connections open (keep-alive), so how the connections are split decides how
the load is split, and the clients of the busier worker wait longest. uvicorn's supervisor hands
one listening socket to every worker and whichever is awake accepts: 36 of 50 connections opened
together landed on one worker, 14 on the other. One `SO_REUSEPORT` socket per worker (this
module's first version) lets Linux spread them by a hash of the client's address: 25 / 25 in
one test, 30 / 21 in a later load run, where the busier worker's requests took 131 ms at the
95th percentile and the other's 82 ms (a hash splits 50 connections within 25 ± 7 only 95 % of
the time). Node.js's cluster module hands connections out from its primary process for the same
reason.

Here the supervisor accepts on one listening socket, in a thread, and passes each connection's
descriptor (`SCM_RIGHTS` over a Unix `SOCK_SEQPACKET` pair, one per worker) to the worker with
the fewest open connections: the ones it handed to that worker minus the ones the worker has
closed, which each worker counts in shared memory. The worker registers the connection with its
event loop (`loop.connect_accepted_socket`), as uvicorn does with one it accepted itself. The
supervisor only accepts and passes on: no byte of a request goes through it.

Like uvicorn's, the supervisor uses uvicorn's worker process (health pings, SIGTERM, exit
codes) and replaces a worker that died or stopped answering. Connections handed to a worker that
dies are lost with it (their clients see the connection reset); new ones go to the workers that
are up (each says so in shared memory once it takes connections) until its replacement is.
"""

import asyncio
import logging
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import RawArray
from types import FrameType
from typing import Any

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.server import Server
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("uvicorn.error")
MAX_FDS = 64  # connections taken from the channel in one read
JOIN_TIMEOUT_S = 30.0  # a worker still running this long after SIGTERM is killed


def can_balance() -> bool:
    """True where connections can be passed between processes (Unix `SCM_RIGHTS`)."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (`host`, `port`) and listening (port 0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _counting(protocol_class: type[Any], closed: Any, index: int) -> type[Any]:
    """`protocol_class`, counting the connections it closes in `closed[index]`."""

    class Counted(protocol_class):
        def connection_lost(self, exc: Exception | None) -> None:
            closed[index] += 1
            super().connection_lost(exc)

    return Counted


class HandedServer(Server):
    """A uvicorn server that listens on nothing: it serves the connections the supervisor passes
    through `channel`, counts the ones it closes in `closed[index]` and sets `ready[index]` once
    it takes connections."""

    def __init__(
        self, config: Config, channel: socket.socket, shared: tuple[Any, Any], index: int
    ) -> None:
        super().__init__(config)
        self.channel, self.index = channel, index
        self.closed, self.ready = shared
        self.adopting: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up without a listener, then read connections from the channel."""
        await super().startup(sockets=[])
        if self.should_exit:
            return
        protocol_class = _counting(self.config.http_protocol_class, self.closed, self.index)

        def create_protocol() -> asyncio.Protocol:
            protocol: asyncio.Protocol = protocol_class(
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state
            )
            return protocol

        loop = asyncio.get_running_loop()
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._receive, loop, create_protocol)
        self.ready[self.index] = 1

    def _receive(
        self, loop: asyncio.AbstractEventLoop, create_protocol: Callable[[], asyncio.Protocol]
    ) -> None:
        try:
            message, fds, flags, _ = socket.recv_fds(self.channel, 1, MAX_FDS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # out of descriptors, say: the connection is lost, not the channel
            logger.warning("Could not take a connection from the supervisor: %s", exc)
            return
        if not message and not fds:  # the supervisor is gone
            loop.remove_reader(self.channel.fileno())
            self.should_exit = True
            return
        if flags & socket.MSG_CTRUNC or not fds:  # the descriptor did not arrive (none left)
            self.closed[self.index] += 1
            logger.warning("A connection passed by the supervisor was lost (no descriptor left)")
        for fd in fds:
            task = loop.create_task(self._adopt(loop, create_protocol, socket.socket(fileno=fd)))
            self.adopting.add(task)
            task.add_done_callback(self.adopting.discard)

    async def _adopt(
        self,
        loop: asyncio.AbstractEventLoop,
        create_protocol: Callable[[], asyncio.Protocol],
        sock: socket.socket,
    ) -> None:
        try:
            await loop.connect_accepted_socket(create_protocol, sock, ssl=self.config.ssl)
        except OSError:  # reset before it was registered: never opened, so count it closed
            self.closed[self.index] += 1
            sock.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop taking connections, then uvicorn's shutdown (open connections are closed)."""
        self.ready[self.index] = 0
        if self.started and self.channel.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets)


class _Worker(Process):
    """uvicorn's worker process running a `HandedServer` on `channel`."""

    def __init__(
        self, config: Config, channel: socket.socket, shared: tuple[Any, Any], index: int
    ) -> None:
        self.shared, self.index = shared, index
        super().__init__(config, [channel])

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        assert sockets  # runs in the child process
        threading.Thread(target=self.always_pong, daemon=True).start()
        self._server = HandedServer(self.config, sockets[0], self.shared, self.index)
        self._server.run()


class BalancedWorkers:
    """Run `workers` uvicorn worker processes behind `listener` until SIGINT or SIGTERM."""

    def __init__(self, config: Config, listener: socket.socket, workers: int) -> None:
        self.config, self.listener, self.count = config, listener, workers
        self.closed: Any = RawArray("q", workers)  # written by worker i only
        self.ready: Any = RawArray("b", workers)  # set by worker i once it takes connections
        self.handed = [0] * workers  # written under `lock` only
        self.channels: list[socket.socket | None] = [None] * workers
        self.processes: list[_Worker] = []
        self.lock = threading.Lock()
        self.should_exit = threading.Event()

    def run(self) -> None:
        """Start the workers, accept and hand out connections, keep the workers alive, stop them
        all on a signal."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        host, port = self.listener.getsockname()[:2]
        logger.info("Serving on http://%s:%d with %d workers (connections handed to the least "
                    "busy)", host, port, self.count)  # fmt: skip
        self.processes = [self._start(index) for index in range(self.count)]
        acceptor = threading.Thread(target=self._accept_loop, name="acceptor", daemon=True)
        acceptor.start()
        while not self.should_exit.wait(0.5):
            self._replace_dead()
        acceptor.join(timeout=5)
        self.listener.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.process.join(timeout=JOIN_TIMEOUT_S)
            if process.process.is_alive():  # stuck: it had its time to close its connections
                process.kill()
            process.join()
        for channel in self.channels:
            if channel is not None:
                channel.close()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.should_exit.set()

    def _start(self, index: int) -> _Worker:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ready[index] = 0
        process = _Worker(self.config, theirs, (self.closed, self.ready), index)
        process.start()
        theirs.close()
        with self.lock:
            old, self.channels[index] = self.channels[index], mine
            self.handed[index] = self.closed[index]  # a new worker has nothing open
        if old is not None:
            old.close()
        return process

    def _accept_loop(self) -> None:
        while not self.should_exit.is_set():
            if not select.select([self.listener], [], [], 0.5)[0]:
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:  # the client gave up already, or out of descriptors for a moment
                time.sleep(0.01)  # (the listener stays readable: do not spin)
                continue
            with conn:  # the worker holds its own copy once handed
                if not self._hand(conn):
                    logger.warning("No worker could take a connection; it is closed")

    def _hand(self, conn: socket.socket) -> bool:
        """Pass `conn` to the worker with the fewest open connections that takes it: first among
        those that are up, else (all starting) any; without waiting on a full channel."""
        with self.lock:
            load = [self.handed[i] - self.closed[i] for i in range(self.count)]
            order = sorted(range(self.count), key=lambda i: (not self.ready[i], load[i]))
            for index in order:
                channel = self.channels[index]
                if channel is None:
                    continue
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()], socket.MSG_DONTWAIT)
                except OSError:  # that worker is gone, or its channel is full
                    continue
                self.handed[index] += 1
                return True
        return False

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error("Worker [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            logger.info("Worker [%s] died; starting another", process.pid)
            self.processes[index] = self._start(index)


__all__ = ["BalancedWorkers", "HandedServer", "can_balance", "listening_socket"]
