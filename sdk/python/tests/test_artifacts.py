"""Artifacts (files a program leaves in /sandbox/out) through the SDK, against a real server.

Skipped, with the reason, while the server has no artifacts route.
"""
from __future__ import annotations

import hashlib
import unittest

from crucible import NotFoundError
from support import client, missing_route

PROGRAM = """
import os
os.makedirs('/sandbox/out/sub', exist_ok=True)
open('/sandbox/out/result.bin', 'wb').write(bytes([0, 1, 2, 255]))
open('/sandbox/out/sub/notes.txt', 'w').write('hello')
"""


class ArtifactTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = client()
        cls.evaluation = cls.client.run(PROGRAM, tags=["sdk-py-artifacts"])
        reason = missing_route(lambda: cls.client.artifacts(cls.evaluation["id"]))
        if reason:
            raise unittest.SkipTest(f"artifacts: {reason}")

    def test_lists_and_reads_the_files_byte_for_byte(self) -> None:
        eid = self.evaluation["id"]
        listed = {a["path"]: a for a in self.client.artifacts(eid)}
        self.assertEqual(sorted(listed), ["result.bin", "sub/notes.txt"])
        self.assertEqual(listed["result.bin"]["size_bytes"], 4)
        self.assertEqual(listed["result.bin"]["sha256"], hashlib.sha256(bytes([0, 1, 2, 255])).hexdigest())
        self.assertEqual(self.client.artifact(eid, "result.bin"), bytes([0, 1, 2, 255]))
        self.assertEqual(self.client.artifact(eid, "sub/notes.txt"), b"hello")

    def test_a_missing_artifact_is_not_found(self) -> None:
        with self.assertRaises(NotFoundError):
            self.client.artifact(self.evaluation["id"], "nope.txt")


if __name__ == "__main__":
    unittest.main()
