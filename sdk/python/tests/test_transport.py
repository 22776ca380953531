"""Faults a real server does not produce on demand: a 429 with Retry-After, a stream that drops.

A small stdlib HTTP server plays the failing side, so the test sees exactly what the SDK sends
(the Authorization header, the Last-Event-ID it resumes with).
"""
from __future__ import annotations

import json
import os
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

from crucible import Crucible, RateLimitedError


class FaultyServer(BaseHTTPRequestHandler):
    requests: List[dict] = []
    rate_limited_left = 0

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        FaultyServer.requests.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.startswith("/api/evaluations/ev_1/events"):
            return self._events()
        if FaultyServer.rate_limited_left > 0:
            FaultyServer.rate_limited_left -= 1
            return self._json(429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "0"})
        self._json(200, {"id": "ev_1", "status": "completed"})

    def _events(self) -> None:
        last = int(self.headers.get("Last-Event-ID") or 0)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        # The first connection drops after two events; the second one sends the rest.
        last_to_send = 2 if last == 0 else 4
        for seq in range(last + 1, last_to_send + 1):
            kind = "done" if seq == 4 else "stdout"
            data = {"seq": seq, "at": "2026-01-01T00:00:00Z", "type": kind, "data": {"text": f"{seq}\n"}}
            self.wfile.write(f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()
        self.close_connection = True

    def _json(self, status: int, body: dict, headers: dict = {}) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)


class TransportTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), FaultyServer)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self) -> None:
        FaultyServer.requests = []

    def test_a_dropped_stream_resumes_with_last_event_id(self) -> None:
        events = list(Crucible(self.url).stream("ev_1"))
        self.assertEqual([e["seq"] for e in events], [1, 2, 3, 4])
        sent = [r["headers"].get("Last-Event-ID") for r in FaultyServer.requests]
        self.assertEqual(sent, [None, "2"])

    def test_429_with_retry_after_is_retried_then_raised_when_retries_run_out(self) -> None:
        FaultyServer.rate_limited_left = 2
        self.assertEqual(Crucible(self.url, retries=2).get("ev_1")["status"], "completed")
        self.assertEqual(len(FaultyServer.requests), 3)
        FaultyServer.rate_limited_left = 1
        with self.assertRaises(RateLimitedError) as ctx:
            Crucible(self.url, retries=0).get("ev_1")
        self.assertEqual((ctx.exception.code, ctx.exception.status, ctx.exception.retry_after), ("rate_limited", 429, 0))

    def test_the_api_key_is_sent_as_a_bearer_token_from_the_argument_or_the_environment(self) -> None:
        Crucible(self.url, api_key="k-arg").get("ev_1")
        os.environ["CRUCIBLE_API_KEY"] = "k-env"
        try:
            Crucible(self.url).get("ev_1")
        finally:
            del os.environ["CRUCIBLE_API_KEY"]
        Crucible(self.url).get("ev_1")
        auth = [r["headers"].get("Authorization") for r in FaultyServer.requests]
        self.assertEqual(auth, ["Bearer k-arg", "Bearer k-env", None])


if __name__ == "__main__":
    unittest.main()
