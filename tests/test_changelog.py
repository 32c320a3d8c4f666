"""The changelog, pyproject and ``deblur --version`` name the same version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import deblurgan
from deblurgan.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_one_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    # pyproject's [project] version (a regex: tomllib is not in Python 3.10)
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert found is not None
    version = found.group(1)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    newest = re.search(r"^## (\S+)", changelog, flags=re.M)
    assert newest is not None and newest.group(1) == version
    assert deblurgan.__version__ == version
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.split() == ["deblur", version]
