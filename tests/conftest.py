"""Shared pytest fixtures.

``realdata``: the folder of third-party real data (``$TWINLOOP_REALDATA``,
CI sets it to ``../shared/realdata``). Tests that need it are skipped with a
reason when it is not configured or absent, except in CI where
``TWINLOOP_REQUIRE_REALDATA=1`` turns a missing folder into a failure.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path of the real-data folder, or skip (fail when TWINLOOP_REQUIRE_REALDATA=1)."""
    required = os.environ.get("TWINLOOP_REQUIRE_REALDATA") == "1"
    value = os.environ.get("TWINLOOP_REALDATA", "")
    if not value:
        reason = "TWINLOOP_REALDATA is not set (point it at shared/realdata)"
    elif not Path(value).is_dir():
        reason = f"TWINLOOP_REALDATA={value} is not a folder"
    else:
        return Path(value)
    if required:
        pytest.fail(f"{reason}, and TWINLOOP_REQUIRE_REALDATA=1 requires it")
    pytest.skip(reason)
