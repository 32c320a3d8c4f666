"""scripts/gpu_burst.py: unpack refuses while a training writes into the run, however it is named.

A stand-in process whose command line reads like `deblur train ... run_dir=RUN` (or `resume=`)
is found from a relative or absolute run folder; another run's is not. (It once compared the
command line's text with an absolute path, and replaced a running chain's checkpoint.)
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "scripts" / "gpu_burst.py"

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")


def _load() -> ModuleType:
    return load_script(SCRIPT, "gpu_burst")


gpu_burst = _load()


@pytest.fixture
def training(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose arguments are `train run_dir=runs/a`, running in tmp_path."""
    sleeper = "import time; time.sleep(60)"
    process = subprocess.Popen(
        [sys.executable, "-c", sleeper, "train", "seed=0", "run_dir=runs/a"], cwd=tmp_path
    )
    time.sleep(0.2)
    yield process
    process.kill()
    process.wait()


def test_a_running_training_is_found_by_its_run_folder(
    tmp_path: Path, training: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert training.pid in gpu_burst._training_running(tmp_path / "runs" / "a")
    monkeypatch.chdir(tmp_path)
    assert training.pid in gpu_burst._training_running(Path("runs/a"))
    assert training.pid not in gpu_burst._training_running(Path("runs/b"))
    assert training.pid not in gpu_burst._training_running(Path("runs"))


def test_a_resumed_training_is_found_by_its_checkpoint(tmp_path: Path) -> None:
    sleeper = "import time; time.sleep(60)"
    resume = "resume=runs/c/checkpoints/last.ckpt"
    process = subprocess.Popen([sys.executable, "-c", sleeper, "train", resume], cwd=tmp_path)
    try:
        time.sleep(0.2)
        assert process.pid in gpu_burst._training_running(tmp_path / "runs" / "c")
    finally:
        process.kill()
        process.wait()
