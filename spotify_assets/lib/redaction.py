"""Credentials never leave the process, not even inside text that came from outside.

A server that echoes the request (a proxy, a misconfigured base URL, a debugging endpoint) sends our refresh token,
the Basic header or the Last.fm API key back in its answer; an error message built from that answer would carry
them to the terminal, the run's event log and its compute logs, and a stored answer into landing. Each client
passes everything it got from outside through its Redactor before it logs, raises or stores it: every credential,
in every form it travels in (as is, URL-encoded, inside the Basic header), becomes `[redacted]`.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
_SHORTEST = 6  # shorter values (an empty secret, a one-letter test value) would redact ordinary words


class Redactor:
    def __init__(self, *secrets: str | None):
        self._forms: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """A credential, in every form it travels in."""
        if not secret or len(secret) < _SHORTEST:
            return
        self._forms |= {secret, quote(secret, safe=""), quote_plus(secret)}

    def add_basic(self, user: str, password: str | None) -> None:
        """The value of an `Authorization: Basic` header (and the password inside it)."""
        self.add(password)
        if password:
            self.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    def __call__(self, text: str) -> str:
        for form in sorted(self._forms, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        return text

    def bytes(self, data: bytes) -> bytes:
        for form in sorted(self._forms, key=len, reverse=True):
            data = data.replace(form.encode(), REDACTED.encode())
        return data
