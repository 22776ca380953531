"""The SDK promises Python 3.9: its sources must not use newer syntax (match, `X | Y` at runtime...)."""
from __future__ import annotations

import ast
import pathlib
import unittest

import crucible

PACKAGE = pathlib.Path(crucible.__file__).parent


class CompatibilityTests(unittest.TestCase):
    def test_every_module_parses_as_python_3_9(self) -> None:
        sources = sorted(PACKAGE.glob("*.py"))
        self.assertGreater(len(sources), 3)
        for source in sources:
            with self.subTest(module=source.name):
                ast.parse(source.read_text(encoding="utf-8"), str(source), feature_version=(3, 9))

    def test_the_package_says_it_is_typed(self) -> None:
        self.assertTrue((PACKAGE / "py.typed").is_file())


if __name__ == "__main__":
    unittest.main()
