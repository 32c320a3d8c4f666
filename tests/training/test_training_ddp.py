"""DDP through Lightning on two CPU processes (gloo), run as a subprocess script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "ddp_two_cpus.py"


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_shards_data_and_keeps_replicas_equal(
    tmp_path: Path, photo_dir: Path
) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("LOCAL_RANK", None)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(photo_dir), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rank, report in enumerate(reports):
        assert report["rank"] == rank and report["world_size"] == 2
        assert report["backend"] == "gloo"
        assert report["gan_steps"] == 3 and len(report["items"]) == 3
    # Each global batch is split between the ranks: no item is trained on twice in a step.
    for step in range(3):
        first, second = reports[0]["items"][step], reports[1]["items"][step]
        assert len(first) == len(second) == 2
        assert not set(first) & set(second)
    # Gradients were averaged: both replicas end with the same weights, and they trained.
    assert reports[0]["checksums"] == reports[1]["checksums"]
    assert (out / "run" / "generator.safetensors").is_file()
    assert (out / "run" / "checkpoints" / "last.ckpt").is_file()
