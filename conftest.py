"""Fixtures for the doctests under src/ (the test suite's own are in tests/conftest.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _doctest_temporary_folders(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Doctests' ``tempfile.mkdtemp()`` folders go under the test's ``tmp_path``.

    Examples create their files with the ``tempfile`` module as a reader would; pointing
    ``tempfile.tempdir`` at pytest's per-test folder keeps them out of /tmp, and pytest cleans
    those folders up (it keeps the last three runs).
    """
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        yield
    finally:
        tempfile.tempdir = saved
