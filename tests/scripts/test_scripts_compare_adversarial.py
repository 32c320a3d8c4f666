"""scripts/compare_adversarial.sh: without its starting checkpoint it stops with one line.

On a fresh clone the default model's chain has not yet written the stage it starts from; the
script must say so and leave nothing behind (no run folder), not fail in Python.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "compare_adversarial.sh"


def test_a_missing_start_checkpoint_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "runs" / "default_v6" / "checkpoints" / "last.ckpt"
    out = tmp_path / "adv"
    env = {**os.environ, "FROM": str(missing), "OUT": str(out), "STAGE": "5"}
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0] and "train stage 5 first" in lines[0]
    assert not out.exists()
