"""The evaluation API through the SDK, against a real server (CRUCIBLE_URL)."""
from __future__ import annotations

import hashlib
import time
import unittest
import uuid

from crucible import BadRequestError, ConflictError, ConnectionFailedError, Crucible, CrucibleError, NotFoundError, PayloadTooLargeError, WaitTimeoutError
from support import client


class EvaluationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = client()
        cls.tag = f"sdk-py-{uuid.uuid4().hex[:10]}"

    def test_run_returns_the_finished_evaluation(self) -> None:
        ev = self.client.run("print('hello from the sdk')", tags=[self.tag])
        self.assertEqual(ev["status"], "completed")
        self.assertEqual(ev["exit_code"], 0)
        self.assertEqual(ev["stdout"], "hello from the sdk\n")
        self.assertIn(self.tag, ev["tags"])
        self.assertEqual(ev["code_sha256"], hashlib.sha256(b"print('hello from the sdk')").hexdigest())

    def test_a_failing_program_is_a_result_not_an_exception(self) -> None:
        ev = self.client.run("import sys; sys.stderr.write('bad'); sys.exit(3)", tags=[self.tag])
        self.assertEqual((ev["status"], ev["exit_code"], ev["stderr"]), ("failed", 3, "bad"))

    def test_submit_then_get_then_wait(self) -> None:
        created = self.client.submit("print(6 * 7)", tags=[self.tag], timeout_s=10)
        self.assertIn(created["status"], ("queued", "provisioning", "running", "completed"))
        self.assertEqual(self.client.get(created["id"])["id"], created["id"])
        done = self.client.wait(created["id"])
        self.assertEqual(done["stdout"], "42\n")
        self.assertEqual(done["limits"]["timeout_s"], 10)

    def test_submit_with_wait_s_holds_until_the_end(self) -> None:
        ev = self.client.submit("print('held')", wait_s=30, tags=[self.tag])
        self.assertEqual((ev["status"], ev["stdout"]), ("completed", "held\n"))

    def test_stream_yields_every_event_in_order_until_done(self) -> None:
        created = self.client.submit(
            "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.05)", tags=[self.tag]
        )
        events = list(self.client.stream(created["id"]))
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(seqs), len(set(seqs)))
        self.assertEqual(events[-1]["type"], "done")
        out = "".join(e["data"]["text"] for e in events if e["type"] == "stdout")
        self.assertEqual(out, "0\n1\n2\n")
        # Resuming after an event gets exactly the rest.
        rest = list(self.client.stream(created["id"], after=seqs[1]))
        self.assertEqual([e["seq"] for e in rest], seqs[2:])

    def test_binary_stdin_and_raw_output_bytes(self) -> None:
        code = "import sys\ndata = sys.stdin.buffer.read()\nsys.stdout.buffer.write(data[::-1])\nsys.stderr.buffer.write(b'\\xff\\x00e')"
        ev = self.client.run(code, stdin=b"\x00\x01\xfe\xff", tags=[self.tag])
        self.assertEqual(ev["status"], "completed")
        self.assertEqual(self.client.stdout_bytes(ev["id"]), b"\xff\xfe\x01\x00")
        self.assertEqual(self.client.stderr_bytes(ev["id"]), b"\xff\x00e")

    def test_batch_and_list_with_filters_and_pages(self) -> None:
        tag = f"{self.tag}-batch"
        ids = self.client.batch([{"code": f"print({i})", "tags": [tag], "timeout_s": 5} for i in range(3)])
        self.assertEqual(len(ids), 3)
        self.assertEqual([self.client.wait(i)["stdout"] for i in ids], ["0\n", "1\n", "2\n"])
        # Plain source strings are accepted too.
        (plain,) = self.client.batch(["print('plain')"])
        self.assertEqual(self.client.wait(plain)["stdout"], "plain\n")
        listed = [e["id"] for e in self.client.list(tags=tag, page_size=1)]
        self.assertEqual(sorted(listed), sorted(ids))
        self.assertEqual(len(list(self.client.list(tags=[tag], status=["completed"], page_size=2, limit=2))), 2)
        self.assertEqual(list(self.client.list(tags=tag, status="failed")), [])
        page = self.client.list_page(tags=tag, limit=2)
        self.assertEqual(len(page["items"]), 2)
        self.assertIsNotNone(page["next_cursor"])

    def test_cancel_a_running_evaluation_and_a_finished_one(self) -> None:
        created = self.client.submit("import time\nprint('up', flush=True)\ntime.sleep(60)", tags=[self.tag])
        for event in self.client.stream(created["id"]):
            if event["type"] == "stdout":
                break
        self.client.cancel(created["id"])
        self.assertEqual(self.client.wait(created["id"])["status"], "cancelled")
        with self.assertRaises(ConflictError) as ctx:
            self.client.cancel(created["id"])
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("already_terminal", 409))

    def test_wait_gives_up_after_its_timeout_even_while_the_program_is_silent(self) -> None:
        created = self.client.submit("import time; time.sleep(30)", tags=[self.tag])
        started = time.monotonic()
        with self.assertRaises(WaitTimeoutError) as ctx:
            self.client.wait(created["id"], timeout=1)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("wait_timeout", 0))
        self.client.cancel(created["id"])

    def test_api_errors_become_exceptions_with_code_status_and_message(self) -> None:
        with self.assertRaises(BadRequestError) as ctx:
            self.client.submit("print(1)", timeout_s=-1)
        err = ctx.exception
        self.assertEqual((err.code, err.status), ("invalid_request", 400))
        self.assertTrue(err.message)
        self.assertTrue(any(d["path"] == ["timeout_s"] for d in err.details))
        with self.assertRaises(NotFoundError) as nf:
            self.client.get("ev_does_not_exist")
        self.assertEqual(nf.exception.code, "not_found")
        self.assertIsInstance(nf.exception, CrucibleError)

    def test_a_body_too_large_is_a_readable_413_not_a_broken_pipe(self) -> None:
        with self.assertRaises(PayloadTooLargeError) as ctx:
            self.client.submit("#" * 40_000_000)
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("payload_too_large", 413))

    def test_an_unreachable_server_is_a_clear_error(self) -> None:
        with self.assertRaises(ConnectionFailedError) as ctx:
            Crucible("http://127.0.0.1:9", retries=0).get("x")
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("unreachable", 0))


if __name__ == "__main__":
    unittest.main()
