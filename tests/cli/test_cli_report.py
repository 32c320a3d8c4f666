"""``deblur report`` through ``main(argv)``: varied settings, log metrics, eval JSON, plots."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deblurgan.cli.main import main
from deblurgan.reporting import LOG_COLUMNS, find_runs, flatten_config, varying_keys

_CONFIG = """\
generator:
  name: lite_unet
  width: {width}
  blocks: 2
discriminator: null
adversarial:
  name: ragan_ls
data:
  root: data/train
  crop_size: 128
  train:
    name: synthetic
    root: data/train
    crop_size: 128
optim:
  adv_weight: {adv}
  betas: [0.5, 0.999]
trainer:
  max_steps: 100
run_dir: {run_dir}
resume: {resume}
seed: 0
"""


def _write_run(folder: Path, *, width: int, adv: float, logs: dict[int, str]) -> None:
    folder.mkdir(parents=True)
    text = _CONFIG.format(width=width, adv=adv, run_dir=folder, resume=folder / "last.ckpt")
    (folder / "config.yaml").write_text(text)
    (folder / ".hydra").mkdir()  # Hydra's copy of the config is not a run
    (folder / ".hydra" / "config.yaml").write_text(text)
    for version, body in logs.items():
        path = folder / "csv" / f"version_{version}" / "metrics.csv"
        path.parent.mkdir(parents=True)
        path.write_text(body)


_HEADER = "epoch,step,train/g_loss,train/content,val/psnr,val/psnr_input,val/ssim\n"


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "sweep"
    _write_run(
        root / "0",
        width=8,
        adv=0.001,
        logs={
            0: _HEADER + "0,9,0.5,0.4,,,\n0,9,,,20.0,18.0,0.70\n0,19,0.3,0.2,,,\n"
            "0,19,,,23.0,18.0,0.80\n0,29,0.2,0.1,,,\n0,29,,,22.0,18.0,0.78\n"
        },
    )
    _write_run(
        root / "1",
        width=16,
        adv=0.01,
        logs={  # resumed at step 10: version 0's later rows were trained again
            0: _HEADER + "0,9,0.5,0.4,,,\n0,9,,,21.0,18.0,0.72\n0,19,0.3,0.2,,,\n"
            "0,19,,,99.0,18.0,0.99\n",
            1: _HEADER + "0,19,0.3,0.2,,,\n0,19,,,24.5,18.0,0.83\n",
        },
    )
    summary = {"protocol": {}, "methods": {"generator": {"psnr": 25.5, "ssim": 0.85, "count": 4}}}
    (root / "1" / "eval.json").write_text(json.dumps(summary))
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))


def test_the_table_has_exactly_the_varied_settings(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["report", str(sweep), "--out", str(out), "--no-plots"]) == 0
    rows = _csv(out / "ablation.csv")
    header = list(rows[0])
    varied = ["generator.width", "optim.adv_weight"]
    evals = ["eval/generator/psnr", "eval/generator/ssim"]
    assert header == ["run", *varied, *LOG_COLUMNS, *evals]
    assert [r["run"] for r in rows] == ["0", "1"]
    first, second = rows
    assert (first["generator.width"], first["optim.adv_weight"]) == ("8", "0.001")
    assert (second["generator.width"], second["optim.adv_weight"]) == ("16", "0.01")
    # final and best validation values; steps = the last logged step + 1
    assert float(first["val/psnr"]) == 22.0 and float(first["val/psnr_best"]) == 23.0
    assert float(first["val/ssim"]) == 0.78 and float(first["val/ssim_best"]) == 0.80
    assert float(first["val/psnr_input"]) == 18.0 and first["steps"] == "30"
    # the resumed run: version 1 replaces what version 0 logged from step 19 on
    assert float(second["val/psnr"]) == 24.5 and float(second["val/psnr_best"]) == 24.5
    assert second["steps"] == "20"
    assert float(second["eval/generator/psnr"]) == 25.5 and first["eval/generator/psnr"] == ""

    markdown = (out / "ablation.md").read_text().splitlines()
    assert markdown[0] == "| " + " | ".join(["run", *varied, *LOG_COLUMNS, *evals]) + " |"
    assert markdown[2].startswith("| 0 | 8 | 0.001 | 22.00 | 23.00 | 0.7800 |")
    assert len(markdown) == 4
    assert capsys.readouterr().out.splitlines()[0] == markdown[0]
    assert not (out / "metrics.png").exists()


def test_existing_reports_are_kept_without_force(
    sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(sweep), "--no-plots", "-q"]) == 0
    table = sweep / "report" / "ablation.md"
    assert table.is_file()
    table.write_text("edited")
    assert main(["report", str(sweep), "--no-plots", "-q"]) == 2
    assert table.read_text() == "edited" and "--force" in capsys.readouterr().err
    assert main(["report", str(sweep), "--no-plots", "-q", "--force"]) == 0
    assert table.read_text().startswith("| run |")


def test_no_runs_and_broken_runs(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 1
    assert "no run folders" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 1
    broken = sweep / "2"
    broken.mkdir()
    (broken / "config.yaml").write_text("optim: [unclosed\n")
    assert main(["report", str(sweep), "--no-plots", "-q"]) == 1
    assert f"{broken / 'config.yaml'}: unreadable config" in capsys.readouterr().err
    assert [r["run"] for r in _csv(sweep / "report" / "ablation.csv")] == ["0", "1"]


def test_flatten_and_vary_helpers(tmp_path: Path) -> None:
    a = flatten_config({"data": {"crop": 64, "train": {"crop": 64}, "val": {"crop": 32}}, "x": {}})
    b = flatten_config({"data": {"crop": 96, "train": {"crop": 96}, "val": {"crop": 32}}, "x": {}})
    assert a == {"data.crop": 64, "data.train.crop": 64, "data.val.crop": 32, "x": "{}"}
    assert varying_keys([a, b]) == ["data.crop"]  # data.train.crop only repeats data.crop
    c = {**b, "data.val.crop": 48}
    assert varying_keys([a, c]) == ["data.crop", "data.val.crop"]
    assert varying_keys([{"k": 1}, {}]) == ["k"]  # missing is a value of its own
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "config.yaml").write_text("seed: 1\n")
    (tmp_path / "a" / "b" / "sub").mkdir()
    (tmp_path / "a" / "b" / "sub" / "config.yaml").write_text("seed: 2\n")  # inside a run
    assert find_runs(tmp_path) == [tmp_path / "a" / "b"]


def test_plots_are_written(sweep: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main(["report", str(sweep), "--out", str(out), "-q"]) == 0
    for name in ("metrics.png", "loss_curves/0.png", "loss_curves/1.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


_WITHOUT_TRAIN_EXTRA = """
import sys
for name in ("lightning", "pytorch_lightning", "hydra", "omegaconf", "matplotlib"):
    sys.modules[name] = None  # as if the train extra were not installed
from deblurgan.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_tables_need_no_train_extra(sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["report", str(sweep), "--out", str(out), "-q"]
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TRAIN_EXTRA, *argv, "--no-plots"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert _csv(out / "ablation.csv")[0]["optim.adv_weight"] == "0.001"
    # With plots asked for, the missing Matplotlib is a note, and the tables are still written.
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TRAIN_EXTRA, *argv, "--force"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "matplotlib is missing" in run.stderr, run.stderr
