"""`matchmaker serve --workers N`: N uvicorn processes, each accepting on its own socket.

uvicorn's own supervisor hands one listening socket to every worker, and whichever worker is
awake accepts. Clients that open their keep-alive connections together (a load balancer, a
machine client, the load test) then land mostly on one worker: 36 of 50 on one and 14 on the
other was measured, and the first worker's clients waited about 2.5 times as long as the
other's while the second had spare turns. Here each worker gets a socket of its own, all bound to
the same address with `SO_REUSEPORT`, and Linux spreads new connections over them by a hash of
the client's address (25 / 25 in the same test).

The supervisor uses uvicorn's worker process (health pings, SIGTERM, exit codes) and, like
uvicorn's, replaces a worker that died or stopped answering, on the same socket. Connections
the kernel sends to that socket while its worker restarts wait in the socket's backlog.
"""

import logging
import signal
import socket
import sys
import threading
from types import FrameType

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("uvicorn.error")


def can_balance() -> bool:
    """True where the kernel spreads connections over sockets bound with `SO_REUSEPORT`."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to (`host`, `port`) with `SO_REUSEPORT` (port 0: one free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # the others join the port the first one got
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class BalancedWorkers:
    """Run one uvicorn worker process per socket until SIGINT or SIGTERM."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.processes: list[Process] = []
        self.should_exit = threading.Event()

    def run(self) -> None:
        """Start the workers, keep them alive, stop them all on a signal."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        host, port = self.sockets[0].getsockname()[:2]
        logger.info("Serving on http://%s:%d with %d workers, one socket each", host, port,
                    len(self.sockets))  # fmt: skip
        self.processes = [self._start(sock) for sock in self.sockets]
        while not self.should_exit.wait(0.5):
            self._replace_dead()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join()
        for sock in self.sockets:
            sock.close()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self.should_exit.set()

    def _start(self, sock: socket.socket) -> Process:
        process = Process(self.config, [sock])
        process.start()
        return process

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
            logger.info("Worker [%s] died; starting another on its socket", process.pid)
            self.processes[index] = self._start(self.sockets[index])


__all__ = ["BalancedWorkers", "can_balance", "listening_sockets"]
