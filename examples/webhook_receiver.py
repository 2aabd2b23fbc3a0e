"""A tiny webhook subscriber, written from the published verification recipe only.

It uses nothing but the standard library: it checks ``X-ScaiControl-Signature`` (HMAC-SHA256
of the raw body with the shared secret) and ``X-ScaiControl-Timestamp`` (at most 300 s
away), answers 401 when either is wrong, 409 for an event it already has (by idempotency
key), and 204 otherwise, printing each event.

    python examples/webhook_receiver.py [--port 8099] [--secret whsec_...]

The default secret is the one of the demo subscription (see docs/webhooks.md for how to
point the demo subscription at this receiver and switch it on).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["DEMO_SECRET", "Inbox", "make_server", "reject_reason"]

DEMO_SECRET = "whsec_c2NhaWNvbnRyb2wgZGVtbyBzZWNyZXQgMzIgYnl0ZXM="
REPLAY_WINDOW_S = 300
MAX_BODY = 1024 * 1024


def reject_reason(
    secret: bytes, raw_body: bytes, headers: Mapping[str, str] | Message[str, str]
) -> str | None:
    """None if the request is authentic and fresh, else a short reason (answer 401)."""
    expected = "sha256=" + hmac.new(secret, raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("X-ScaiControl-Signature", ""), expected):
        return "bad signature"
    try:
        stamp = int(headers.get("X-ScaiControl-Timestamp", ""))
    except ValueError:
        return "missing or malformed timestamp"
    if abs(time.time() - stamp) > REPLAY_WINDOW_S:
        return "timestamp outside replay window"
    return None


class Inbox:
    """Events accepted so far, deduplicated by idempotency key (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.rejected = 0

    def add(self, event: dict[str, Any]) -> bool:
        """Keep ``event``; False if its idempotency key was seen before."""
        with self.lock:
            key = str(event.get("idempotency_key"))
            if key in self.events:
                self.duplicates += 1
                return False
            self.events[key] = event
            return True


def make_server(secret: str, port: int = 0, *, quiet: bool = True) -> tuple[
    ThreadingHTTPServer, Inbox
]:
    """A receiver on 127.0.0.1 (``port`` 0 picks a free one) and its inbox; call
    ``serve_forever()`` on the server, in a thread if need be."""
    inbox = Inbox()
    key = secret.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            raw = self.rfile.read(length)
            reason = reject_reason(key, raw, self.headers)
            if reason is not None:
                with inbox.lock:
                    inbox.rejected += 1
                self._answer(401, reason)
                return
            event = json.loads(raw)
            if not inbox.add(event):
                self._answer(409, "duplicate")
                return
            if not quiet:
                print(f"{event['event_type']} {event['idempotency_key']}", flush=True)
            self._answer(204)

        def _answer(self, status: int, text: str = "") -> None:
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    return server, inbox


def main() -> None:
    parser = argparse.ArgumentParser(description="Print verified webhook deliveries.")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", default=DEMO_SECRET)
    args = parser.parse_args()
    server, _ = make_server(args.secret, args.port, quiet=False)
    print(f"listening on http://127.0.0.1:{server.server_port}/webhooks", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
