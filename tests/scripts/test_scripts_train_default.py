"""scripts/train_default.sh: the chain of stages skips, resumes and starts each from the last.

The script is run for real, in a copy of the repository layout, with stand-ins for `deblur train`
(records its arguments, writes a last.ckpt holding the step it reached) and for the Python that
reads a checkpoint's step. `trainer.stop_at` itself is tested with real training in
tests/training/test_training_fit.py.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "train_default.sh"
FINAL = {"1": 11750, "2": 5750, "3": 9500, "4": 6000, "5": 4000}
RUNS = {
    "1": "default_v2",
    "2": "default_v3",
    "3": "default_v4",
    "4": "default_v5",
    "5": "default_v6",
}

# `deblur train ARGS`: appends ARGS to calls.log; writes run_dir/checkpoints/last.ckpt with the
# step reached: stop_at, else max_steps; a "max_time" here is the steps one launch may take.
FAKE_DEBLUR = """#!/usr/bin/env python3
import sys, pathlib
args = dict(a.split("=", 1) for a in sys.argv[2:] if "=" in a)
with open("calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
step = int(args.get("trainer.stop_at") or args["trainer.max_steps"])
start = int(pathlib.Path(args["resume"]).read_text()) if "resume" in args else 0
if "trainer.max_time" in args:
    step = min(step, start + int(args["trainer.max_time"]))
folder = pathlib.Path(args["run_dir"]) / "checkpoints"
folder.mkdir(parents=True, exist_ok=True)
(folder / "last.ckpt").write_text(str(step))
"""
FAKE_PYTHON = '#!/usr/bin/env bash\ncat "${@: -1}"\n'  # python -c CODE CKPT: the step in CKPT


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "train_default.sh")
    _executable(tmp_path / "deblur", FAKE_DEBLUR)
    _executable(tmp_path / "python", FAKE_PYTHON)
    return tmp_path


def _run(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("STAGE", "RUN")}
    environ.update(DEBLUR=str(repo / "deblur"), PYTHON=str(repo / "python"), **env)
    return subprocess.run(
        ["bash", str(repo / "scripts" / "train_default.sh"), *args],
        cwd=repo,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _calls(repo: Path) -> list[dict[str, str]]:
    log = repo / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [dict(a.split("=", 1) for a in line.split() if "=" in a) for line in lines]


def _step(repo: Path, stage: str) -> int:
    return int((repo / "runs" / RUNS[stage] / "checkpoints" / "last.ckpt").read_text())


def test_the_chain_runs_every_stage_from_the_previous_one(repo: Path) -> None:
    assert _run(repo, "--next").stdout.split() == ["1", "runs/default_v2"]
    done = _run(repo)
    assert done.returncode == 0, done.stderr
    calls = _calls(repo)
    assert [c["run_dir"] for c in calls] == [f"runs/{RUNS[s]}" for s in "12345"]
    assert "init_weights" not in calls[0] and "resume" not in calls[0]
    for stage, call in zip("2345", calls[1:], strict=True):
        previous = str(int(stage) - 1)
        assert call["init_weights"] == f"runs/{RUNS[previous]}/checkpoints/last.ckpt"
    # stages 1-3 stop at their steps on the 200,000-step schedule; 4 and 5 end their schedules
    assert [c.get("trainer.stop_at") for c in calls] == ["11750", "5750", "9500", None, None]
    assert {c["trainer.max_steps"] for c in calls[:3]} == {"200000"}
    assert all(_step(repo, s) == FINAL[s] for s in FINAL)
    assert "the chain is done" in done.stderr
    assert _run(repo, "--next").stdout.strip() == "done"
    # run again: every stage is done, nothing is trained
    again = _run(repo)
    assert again.returncode == 0 and len(_calls(repo)) == 5
    assert again.stderr.count(" done (") == 5


def test_an_interrupted_chain_resumes_the_stage_it_was_in(repo: Path) -> None:
    # a sitting of "3000 steps" (the stand-in's max_time): stage 1 stops short and says so
    first = _run(repo, "trainer.max_time=3000")
    assert first.returncode == 0, first.stderr
    assert "stage 1 stopped at step 3000 of 11750" in first.stderr
    assert len(_calls(repo)) == 1 and _step(repo, "1") == 3000
    assert _run(repo, "--next").stdout.split() == ["1", "runs/default_v2"]
    # the same command resumes stage 1, runs stage 2 and stops in stage 3
    second = _run(repo, "trainer.max_time=9000")
    assert second.returncode == 0, second.stderr
    resumed, two, _ = _calls(repo)[1:]
    assert resumed["resume"] == "runs/default_v2/checkpoints/last.ckpt"
    assert "init_weights" not in resumed
    assert two["run_dir"] == "runs/default_v3" and "resume" not in two
    assert [_step(repo, s) for s in "123"] == [11750, 5750, 9000]
    assert "stage 3 stopped at step 9000 of 9500" in second.stderr
    assert _run(repo, "--next").stdout.split() == ["3", "runs/default_v4"]


def test_a_stage_stopped_before_its_first_checkpoint_starts_again(repo: Path) -> None:
    # stage 1 done; stage 2 was stopped before it wrote a checkpoint: its folder holds a run
    assert _run(repo, STAGE="1").returncode == 0
    (repo / "runs" / "default_v3" / "checkpoints").mkdir(parents=True)
    (repo / "runs" / "default_v3" / "config.yaml").write_text("run: stopped at step 199\n")
    again = _run(repo, STAGE="2")
    assert again.returncode == 0, again.stderr
    assert "runs/default_v3 has no checkpoint yet; starting it again" in again.stderr
    call = _calls(repo)[-1]
    assert call["overwrite"] == "true" and "resume" not in call
    assert call["init_weights"] == "runs/default_v2/checkpoints/last.ckpt"
    # a stage with a checkpoint is resumed, never overwritten
    assert _step(repo, "2") == FINAL["2"]
    (repo / "runs" / "default_v4" / "checkpoints").mkdir(parents=True)
    (repo / "runs" / "default_v4" / "checkpoints" / "last.ckpt").write_text("100")
    resumed = _run(repo, "trainer.max_time=50", STAGE="3")
    assert resumed.returncode == 0, resumed.stderr
    assert "overwrite" not in _calls(repo)[-1] and _step(repo, "3") == 150


def test_one_stage_needs_the_previous_one(repo: Path) -> None:
    alone = _run(repo, STAGE="3")
    assert alone.returncode == 2
    assert "stage 3 starts from runs/default_v3/checkpoints/last.ckpt; run STAGE=2 first" in (
        alone.stderr
    )
    assert not (repo / "calls.log").exists()
    assert _run(repo, STAGE="9").returncode == 2
    lone_run = _run(repo, RUN="runs/x")
    assert lone_run.returncode == 2 and "set STAGE too" in lone_run.stderr
    # one stage with its own run folder (as scripts/gpu_burst.py runs it)
    (repo / "start.ckpt").write_text("1000")
    given = _run(repo, "resume=start.ckpt", STAGE="5", RUN="runs/burst")
    assert given.returncode == 0, given.stderr
    (call,) = _calls(repo)
    assert call["run_dir"] == "runs/burst" and call["resume"] == "start.ckpt"
    assert (repo / "runs" / "burst" / "checkpoints" / "last.ckpt").read_text() == "4000"


def test_stage_7_continues_stage_5_outside_the_chain(repo: Path) -> None:
    assert _run(repo).returncode == 0
    assert _run(repo, "--next").stdout.strip() == "done"  # stage 7 is not part of the chain
    longer = _run(repo, STAGE="7")
    assert longer.returncode == 0, longer.stderr
    call = _calls(repo)[-1]
    assert call["run_dir"] == "runs/default_v8"
    assert call["init_weights"] == "runs/default_v6/checkpoints/last.ckpt"
    assert call["trainer.max_steps"] == "20000" and call["trainer.val_every"] == "2000"
    assert "trainer.stop_at" not in call
    # stage 5's data: the mild sizes and the light noise
    assert call["data.degradation.size_median"] == "0.015625"
    assert call["data.degradation.shot_noise"] == "[1e-6,3e-4]"
    assert _run(repo, "--next", STAGE="7").stdout.split() == ["7", "runs/default_v8"]
