"""Real `celery worker` and `celery beat` processes for the fault tests and the benchmark.

Each process gets its own session (process group), so a kill takes the worker's pool children
with it, as a crashed host would. Only the processes started here are ever signalled.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def service_env(database_url: str, redis_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    """Environment for worker processes: test services, short visibility timeout, fast retries."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "CELERY_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_MUTEX_EXPIRE": "3",
            # Above the visibility timeout, unlike production: a slow dispatch may then run
            # twice, which the unique key makes harmless; a short timeout keeps the test short.
            "CELERY_SOFT_TIME_LIMIT": "20",
            "CELERY_HARD_TIME_LIMIT": "25",
            "DIGEST_RETRY_BASE_SECONDS": "0.3",
            "DIGEST_RETRY_MAX_SECONDS": "2",
            "DIGEST_SEND_TIMEOUT": "3",
            "DIGEST_SWEEP_AFTER_SECONDS": "15",
            # The webhook receivers listen on 127.0.0.1 over plain http: allowed here only.
            "WEBHOOK_ALLOW_HTTP": "1",
            "WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra)
    return env


class Fleet:
    """Worker and beat processes, started, killed and restarted by index."""

    def __init__(self, env: dict[str, str], log_dir: Path, concurrency: int = 2) -> None:
        self.env, self.log_dir, self.concurrency = env, log_dir, concurrency
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.beats: list[subprocess.Popen[bytes]] = []
        self.kills = 0

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", *args]
        with (self.log_dir / log_name).open("ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(
                command, env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def start_worker(self, index: int) -> None:
        """Start worker `index` (a prefork pool of `concurrency` children)."""
        name = f"w{index}-{uuid.uuid4().hex[:6]}@%h"
        args = ["-A", "workers.celery_app", "worker", "-P", "prefork", "-n", name, "-l", "INFO"]
        args += [f"--concurrency={self.concurrency}", "--without-gossip", "--without-mingle"]
        self.workers[index] = self._spawn(args, f"worker{index}.log")

    def start_beat(self, app: str, index: int) -> None:
        """Start a beat process of `app` with its own schedule file."""
        schedule = self.log_dir / f"beat{index}-schedule"
        self.beats.append(self._spawn(["-A", app, "beat", "-s", str(schedule)], f"beat{index}.log"))

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker `index` and its pool children, then start it again."""
        proc = self.workers[index]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        self.kills += 1
        self.start_worker(index)

    def stop(self) -> None:
        """Stop every process started here (TERM, then KILL after a grace period)."""
        procs = [*self.workers.values(), *self.beats]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def swept(self) -> int:
        """How many deliveries the `digests.sweep` runs requeued, read from the worker logs."""
        pattern = re.compile(r"digests\.sweep\[[^]]*\] succeeded in [0-9.]+s: (\d+)")
        text = "".join(p.read_text(errors="replace") for p in self.log_dir.glob("worker*.log"))
        return sum(int(n) for n in pattern.findall(text))

    def logs(self) -> str:
        """The tail of every log, for a failing assertion."""
        tails = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-25:]
            tails.append(f"== {path.name}\n" + "\n".join(lines))
        return "\n".join(tails)


@contextmanager
def fleet(env: dict[str, str], log_dir: Path, workers: int = 2) -> Iterator[Fleet]:
    """`workers` running worker processes, all stopped on exit."""
    group = Fleet(env, log_dir)
    try:
        for index in range(workers):
            group.start_worker(index)
        yield group
    finally:
        group.stop()


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll `condition` until true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
