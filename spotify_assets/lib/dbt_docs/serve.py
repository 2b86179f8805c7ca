"""Serving the generated docs site on loopback with the standard library's HTTP server."""

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per request would drown the address we printed
        pass


def docs_server(site: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A server for `site` (call serve_forever(); shutdown() from another thread stops it)."""
    if not (site / "index.html").exists():
        raise FileNotFoundError(f"{site / 'index.html'} does not exist: the docs site was not generated")
    return ThreadingHTTPServer((host, port), functools.partial(_QuietHandler, directory=str(site)))
