"""Local receivers for the integration and fault tests: an SMTP server and a webhook endpoint.

Both count what arrives by the digest's idempotency key (Message-ID / `Idempotency-Key`), the
way a real receiver dedupes, and keep the raw count too, so a test can tell a transport resend
from a duplicate digest.
"""

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from services.digests.delivery import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """Thread-safe record of what a receiver accepted, keyed by idempotency key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accepted: list[str] = []
        self.messages: list[Message] = []

    def add(self, key: str, message: Message | None = None) -> None:
        with self._lock:
            self.accepted.append(key)
            if message is not None:
                self.messages.append(message)

    def unique(self) -> set[str]:
        with self._lock:
            return set(self.accepted)

    def resent(self) -> int:
        """Digests accepted more than once (transport resends a deduping receiver absorbs)."""
        with self._lock:
            return sum(n - 1 for n in Counter(self.accepted).values())

    def __len__(self) -> int:
        with self._lock:
            return len(self.accepted)


class _SmtpHandler:
    def __init__(self, inbox: Inbox, delay: float, reply: str) -> None:
        self.inbox, self.delay, self.reply = inbox, delay, reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.reply.startswith("250"):
            return self.reply
        message = message_from_bytes(envelope.content)
        self.inbox.add(str(message["Message-ID"]), message)
        return "250 OK"


@contextmanager
def smtp_server(delay: float = 0.0, reply: str = "250 OK") -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on 127.0.0.1 that records each message (or answers `reply`)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(_SmtpHandler(inbox, delay, reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


class WebhookEndpoint:
    """A webhook receiver that fails the first `fail_times` requests of each key with 503."""

    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.inbox = Inbox()
        self.requests: Counter[str] = Counter()
        self.bodies: dict[str, tuple[bytes, str, str]] = {}
        self._lock = threading.Lock()

    def handle(self, key: str, body: bytes, timestamp: str, signature: str) -> int:
        with self._lock:
            self.requests[key] += 1
            if self.requests[key] <= self.fail_times:
                return 503
            self.bodies[key] = (body, timestamp, signature)
        self.inbox.add(key)
        return 200


def _handler_for(endpoint: WebhookEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = endpoint.handle(
                self.headers.get(IDEMPOTENCY_HEADER, ""),
                body,
                self.headers.get(TIMESTAMP_HEADER, ""),
                self.headers.get(SIGNATURE_HEADER, ""),
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def webhook_server(endpoint: WebhookEndpoint) -> Iterator[str]:
    """Serve `endpoint` on 127.0.0.1; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(endpoint))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/dealflow"
    finally:
        server.shutdown()
        server.server_close()
