"""Shared by the SDK's tests: the server under test (CRUCIBLE_URL) and route detection."""
from __future__ import annotations

import os
import unittest
from typing import Optional

from crucible import Crucible, NotFoundError

SERVER_URL = os.environ.get("CRUCIBLE_URL", "")


def client() -> Crucible:
    if not SERVER_URL:
        raise unittest.SkipTest("CRUCIBLE_URL is not set: these tests need a running Crucible server")
    return Crucible(SERVER_URL)


def missing_route(call) -> Optional[str]:
    """The server's "No route ..." message if ``call`` hits a route it does not have, else None.

    Sessions and artifacts are being added to the server alongside this SDK: until a server has
    them, their tests skip with this reason instead of failing.
    """
    try:
        call()
    except NotFoundError as err:
        if err.message.startswith("No route"):
            return f"the server has no such route yet ({err.message})"
    return None
