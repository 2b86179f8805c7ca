"""The plumbing both simulated services share: a threaded HTTP server on 127.0.0.1, started and stopped around a demo
or a test, with its handler class bound to the service's state (`self.fake` in a handler)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    """One whole answer. A client that gave up waiting (a delayed fault outlasting its timeout) is let go, as a real
    server lets it go."""
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


class LoopbackService:
    handler: type[BaseHTTPRequestHandler]  # subclasses set it; handlers reach the service as `self.fake`
    path = ""  # appended to the root in base_url

    _server: ThreadingHTTPServer | None = None

    def start(self):
        handler = type("Handler", (self.handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"
