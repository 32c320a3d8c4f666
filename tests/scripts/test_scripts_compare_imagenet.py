"""scripts/compare_imagenet.sh: without the fetched ImageNet weights it stops with one line.

The comparison's second arm starts the backbone from ``deblur weights fetch
efficientnet_lite0``; before that fetch the script must say so and leave nothing behind, not
train the first arm and then fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "compare_imagenet.sh"


def test_missing_weights_are_one_line_and_nothing_is_trained(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    env = {
        **os.environ,
        "DEBLURGAN_CACHE": str(tmp_path / "empty_cache"),
        "OUT": str(out),
        "PYTHON": sys.executable,
        "DEBLUR": "false",  # never reached
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "deblur weights fetch efficientnet_lite0" in lines[0]
    assert not out.exists()
