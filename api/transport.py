"""Connection-level limits for `matchmaker serve`: uvicorn's httptools protocol, with a bound on
the time and size of a request's headers, on the time a client may leave a response untaken,
and on the open connections per client address.

uvicorn's options bound an idle keep-alive connection (`timeout_keep_alive`, which `serve`
passes) and, with h11 only, the size of the headers (`h11_max_incomplete_event_size`); none
bounds the time headers take to arrive (a client sending one byte every few seconds keeps its
connection, and its descriptor, forever), the time a response may wait for its client, or the
connections of one address (`limit_concurrency` counts everyone's, and answers 503 to all).
A reverse proxy in front does the same (docs/deployment.md); this keeps a server reached
directly (the default `matchmaker serve`) as safe.
`GuardedHttpToolsProtocol` adds, per connection:

- the request line and headers must arrive within `header_timeout` s (from the connection's
  opening, or from the first byte of a later request on it): else 408 and the connection closed;
- they must fit in `max_header_bytes`: else 431 and closed;
- a client address holds at most `max_connections_per_client` connections to one worker
  process: the next is answered 429 and closed (0: no bound). Behind a reverse proxy every
  client has the proxy's address: raise the bound there, and let the proxy limit clients.
- a response must be taken by the client: once the unsent part of it passes uvicorn's high
  water mark (64 KiB) writing pauses, and unless the client drains it (to 16 KiB) within
  `send_timeout` s the connection is aborted. uvicorn then resumes the app's pending `send`
  (the connection is lost), so the request ends. Without it, a client that pipelines requests
  and never reads the answers holds a request for as long as it keeps its socket open.

The request's body is bounded in time and size by the app (`api.guards.BodyGuard`). Run it with
`uvicorn --http api.transport:GuardedHttpToolsProtocol` (what `matchmaker serve` passes).
"""

import asyncio
import json
from collections import Counter
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from api.errors import PROBLEM_JSON, title_of
from models.settings import get_settings


def problem_bytes(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 problem+json response that closes the connection."""
    body = json.dumps({"type": "about:blank", "title": title_of(status), "status": status,
                       "detail": detail}, ensure_ascii=False).encode()  # fmt: skip
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: {PROBLEM_JSON}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")  # fmt: skip
    return head.encode("ascii") + body


class _HeadersTooLarge(Exception):
    """Raised from a parser callback: the request line and headers passed the bound."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded header time and size, a bounded wait for the
    client to take a response, and a bound on the connections of one client address (see the
    module's docstring)."""

    open_per_client: ClassVar[Counter[str]] = Counter()  # this process's connections by address

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.header_timeout
        self.max_header_bytes = settings.max_header_bytes
        self.max_per_client = settings.max_connections_per_client
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._too_large = False
        self._counted: str | None = None
        self.send_timeout = settings.send_timeout
        self._send_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection for its address (refused over the bound); start the clock of
        its first request's headers."""
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        if host is not None:
            self._counted = host
            self.open_per_client[host] += 1
            if self.max_per_client and self.open_per_client[host] > self.max_per_client:
                self._refuse(429, f"来自同一地址的连接过多（上限 {self.max_per_client} 个），"
                                  "请关闭空闲连接后重试")  # fmt: skip
                return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks; uncount the connection."""
        self._cancel_header_timer()
        self._cancel_send_timer()
        if self._counted is not None:
            self.open_per_client[self._counted] -= 1
            if self.open_per_client[self._counted] <= 0:
                del self.open_per_client[self._counted]
            self._counted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Nothing more is read from a connection being closed."""
        if self.transport.is_closing():
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A request starts (its first byte): its headers' clock runs, if not yet."""
        super().on_message_begin()
        self._header_bytes = 0
        if self._header_timer is None:
            self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        """Count the request line."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header line."""
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The headers arrived in time: stop their clock, run the request."""
        self._cancel_header_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """431 for headers over the bound (the parser reports it as a failed callback)."""
        if self._too_large:
            self._refuse(431, f"请求行与请求头超过 {self.max_header_bytes // 1024} KB 上限")
            return
        super().send_400_response(msg)

    def pause_writing(self) -> None:
        """The client stopped taking the response: it has `send_timeout` s to drain it."""
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.send_timeout, self._send_late)

    def resume_writing(self) -> None:
        """The client drained the response: stop the clock."""
        self._cancel_send_timer()
        super().resume_writing()

    def _send_late(self) -> None:
        """Drop the connection (uvicorn's `connection_lost` then releases the pending send)."""
        self._send_timer = None
        self.transport.abort()

    def _cancel_send_timer(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            self._too_large = True
            raise _HeadersTooLarge

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_header_timer()  # a pipelined request waits for the one being answered
            return
        self._refuse(408, f"未在 {self.header_timeout:g} 秒内收到完整的请求头，连接已关闭")

    def _refuse(self, status: int, detail: str) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(problem_bytes(status, detail))
            self.transport.close()


__all__ = ["GuardedHttpToolsProtocol", "problem_bytes"]
