"""A real HTTP lab on 127.0.0.1 for the tests: records every request and answers by script.

Usage (the ``http_lab`` fixture is offered to every test by tests/conftest.py)::

    def test_something(http_lab):
        http_lab.script(Reply.status(500), Reply.json({"order_number": "D-1"}), path="/orders")
        ...  # send to http_lab.url
        assert http_lab.requests[0].headers["Idempotency-Key"] == order_id

Replies are consumed in the order they were scripted, first match by method and path;
``repeat=True`` keeps one answering. Without a matching reply the lab answers 404.

Bounded on purpose: loopback unless given an address (the multi-host test's lab host), request
bodies up to ``MAX_BODY`` bytes, at most ``MAX_REQUESTS`` recorded, stalls cut short when the
lab stops.
"""

import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

MAX_BODY = 8 * 1024 * 1024
MAX_REQUESTS = 1000
MAX_STALL_SECONDS = 30.0


@dataclass(frozen=True)
class Reply:
    status_code: int = 200
    body: bytes = b""
    content_type: str = ""
    headers: dict = field(default_factory=dict)
    #: Seconds to wait before answering (longer than the client's timeout = "no answer").
    stall: float = 0.0

    @classmethod
    def json(cls, data, status=200, **kwargs):
        return cls(status, json.dumps(data).encode(), "application/json", **kwargs)

    @classmethod
    def xml(cls, text, status=200, **kwargs):
        body = text.encode() if isinstance(text, str) else text
        return cls(status, body, "application/xml; charset=utf-8", **kwargs)

    @classmethod
    def text(cls, text, status=200, content_type="text/plain; charset=utf-8", **kwargs):
        return cls(status, text.encode(), content_type, **kwargs)

    @classmethod
    def empty(cls, status=204, **kwargs):
        return cls(status, **kwargs)

    @classmethod
    def status(cls, status, **kwargs):
        return cls(status, **kwargs)

    @classmethod
    def stalled(cls, seconds=5.0):
        return cls(200, stall=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict  # header name (as sent) → value; use ``header()`` for case-insensitive access
    body: bytes
    client: str = ""  # the address the request came from

    def header(self, name, default=None):
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    def json(self):
        return json.loads(self.body)

    def multipart(self):
        """``{part name: [(filename, content type, bytes), ...]}`` of a multipart/form-data body."""
        head = f"Content-Type: {self.header('Content-Type')}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        if not message.is_multipart():
            raise ValueError("not a multipart body")
        parts = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts.setdefault(name, []).append(
                (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
            )
        return parts


@dataclass
class _Script:
    method: str | None
    path: str | None
    reply: Reply
    repeat: bool

    def matches(self, method, path):
        return (self.method is None or self.method == method) and (self.path is None or self.path == path)


class HttpLab:
    def __init__(self, address=("127.0.0.1", 0)):
        self.requests = []
        self._scripts = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(address, self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-lab", daemon=True
        )

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *replies, method=None, path=None, repeat=False):
        """Queue replies for requests matching ``method``/``path`` (None = any)."""
        with self._lock:
            self._scripts.extend(_Script(method, path, reply, repeat) for reply in replies)

    def requests_to(self, path, method=None):
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def _next_reply(self, method, path):
        with self._lock:
            for entry in self._scripts:
                if entry.matches(method, path):
                    if not entry.repeat:
                        self._scripts.remove(entry)
                    return entry.reply
        return Reply.json({"message": f"no scripted reply for {method} {path}"}, status=404)

    def _record(self, request):
        with self._lock:
            if len(self.requests) < MAX_REQUESTS:
                self.requests.append(request)

    def _handler_class(self):
        lab = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                body = self._read_body()
                if body is None:
                    self._answer(Reply.status(413))
                    return
                lab._record(
                    RecordedRequest(self.command, self.path, dict(self.headers.items()), body, self.client_address[0])
                )
                reply = lab._next_reply(self.command, self.path)
                if reply.stall and lab._stopping.wait(min(reply.stall, MAX_STALL_SECONDS)):
                    return
                self._answer(reply)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

            def _read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks, total = [], 0
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        total += size
                        if total > MAX_BODY:
                            return None
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    return None
                return self.rfile.read(length) if length else b""

            def _answer(self, reply):
                self.send_response(reply.status_code)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (its timeout); nothing to answer any more.
                    self.close_connection = True

            def log_message(self, format, *args):
                """Quiet: tests assert on ``lab.requests`` instead."""

        return Handler


@pytest.fixture
def http_lab():
    lab = HttpLab().start()
    try:
        yield lab
    finally:
        lab.stop()
