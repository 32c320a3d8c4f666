"""``deblur bench``: the in-run baseline, ratios and the compile pay-off, and one real worker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deblurgan.cli import bench
from deblurgan.cli.main import main


def _result(job: dict[str, Any], median: float, first: float) -> dict[str, Any]:
    return {
        "model": job["name"],
        "arch": job["name"],
        "backend": job["backend"],
        "memory_format": "channels_last" if job.get("channels_last") else "contiguous",
        "width": job["size"][0],
        "height": job["size"][1],
        "parameters": 2_000_000,
        "macs": 4 * 10**9,
        "median_s": median,
        "times_s": [median * 0.9, median, median * 1.2],
        "fps": 1 / median,
        "peak_memory_bytes": 100 * 2**20,
        "setup_s": 0.0,
        "first_call_s": first,
        "max_abs_diff": None if job["backend"] == "eager" else 1e-6,
    }


def test_baseline_is_always_measured_and_ratios_follow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs: list[dict[str, Any]] = []
    times = {
        ("fpn_mobilenet", "eager"): 0.5,
        ("nafnet", "eager"): 0.25,
        ("nafnet", "compile"): 0.125,
    }

    def fake_run(job: dict[str, Any]) -> dict[str, Any]:
        jobs.append(job)
        median = times[(job["name"], job["backend"])]
        return _result(job, median, 10.125 if job["backend"] == "compile" else median)

    monkeypatch.setattr(bench, "_run", fake_run)
    args = ["bench", "-m", "nafnet", "--backend", "eager", "--backend", "compile"]
    assert main([*args, "--size", "64x48"]) == 0
    assert [(j["name"], j["backend"]) for j in jobs] == [
        ("fpn_mobilenet", "eager"),
        ("nafnet", "eager"),
        ("nafnet", "compile"),
    ]
    out = capsys.readouterr().out
    rows = {
        line.split()[0] + " " + line.split()[1]: line
        for line in out.splitlines()
        if line.startswith(("nafnet", "fpn_mobilenet"))
    }
    assert "0.50x" in rows["nafnet eager"] and "0.25x" in rows["nafnet compile"]
    # 10 s more on the first call, 0.125 s saved per frame: repaid after 80 frames
    assert "2.00x eager" in out and "repaid after 80 frames" in out


@pytest.mark.slow
def test_a_real_worker_measures_a_tiny_model(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "-m", "lite_unet", "--size", "32x32", "--runs", "2", "--threads", "1"]
    assert main([*args, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in results] == ["fpn_mobilenet", "lite_unet"]
    assert all(r["median_s"] > 0 and r["parameters"] > 0 and r["macs"] > 0 for r in results)
