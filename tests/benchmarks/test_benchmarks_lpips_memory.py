"""benchmarks/lpips_memory.py: whole-image and tiled LPIPS, in fresh processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "lpips_memory.py"


@pytest.mark.slow
def test_the_script_compares_both_ways() -> None:
    # Tiles above 0.2 MP: the 0.6 MP pair (894x670) is scored in 12 cores of 256 px.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--sizes",
            "0.6",
            "--threads",
            "1",
            "--tile-above",
            "0.2",
            "--tile",
            "256",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    rows = [line for line in result.stdout.splitlines() if re.match(r"\s*0\.6 ", line)]
    assert len(rows) == 1, result.stdout
    cells = [c.split() for c in rows[0].split("|")]
    whole_mb, tiled_mb = float(cells[1][0]), float(cells[2][0])
    assert tiled_mb > 0 and whole_mb > 0
    assert float(cells[-1][0]) < 1e-5  # the same distance
