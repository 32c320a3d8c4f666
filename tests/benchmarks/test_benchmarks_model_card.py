"""benchmarks/model_card.py: the arguments it hands to validation_views.py and deblur bench."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "model_card.py"


def _load():  # type: ignore[no-untyped-def]
    return load_script(SCRIPT, "model_card")


def test_a_missing_previous_default_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _load()
    assert script.main(["--previous", str(tmp_path / "gone.safetensors")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "gone.safetensors" in err and "missing" in err


def test_views_then_speed_against_the_previous_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _load()
    previous = tmp_path / "old.safetensors"
    previous.write_bytes(b"x")
    calls: list[tuple[str, list[str]]] = []
    views = SimpleNamespace(main=lambda argv: calls.append(("views", argv)) or 0, REPO=tmp_path)
    monkeypatch.setitem(sys.modules, "validation_views", views)
    components = SimpleNamespace(main=lambda argv: calls.append(("components", argv)) or 0)
    monkeypatch.setitem(sys.modules, "synthetic_components", components)
    import deblurgan.cli.bench as bench

    monkeypatch.setattr(bench, "bench_main", lambda argv: calls.append(("bench", argv)) or 0)
    assert script.main(["-m", "m.ckpt", "--previous", str(previous), "--runs", "2"]) == 0
    assert calls[0] == (
        "views",
        ["-m", "m.ckpt", "--baseline", str(previous), "--views", "synthetic,lai,real"],
    )
    # the synthetic gain taken apart, for both models, on the synthetic view's photos
    assert calls[1] == (
        "components",
        ["m.ckpt", str(previous), "--photos", str(tmp_path / "data" / "train_photos" / "test")],
    )
    kind, argv = calls[2]
    assert kind == "bench" and argv[:6] == [
        "-m",
        "m.ckpt",
        "-m",
        str(previous),
        "-m",
        "fpn_mobilenet",
    ]
    assert argv[argv.index("--size") + 1] == "1280x720" and argv[argv.index("--runs") + 1] == "2"
    calls.clear()
    assert script.main(["--previous", str(previous), "--no-speed"]) == 0
    assert [kind for kind, _ in calls] == ["views", "components"]
    calls.clear()  # --markdown DIR: a file for the views, one for the components
    card = ["--markdown", str(tmp_path / "card")]
    assert script.main(["--previous", str(previous), "--no-speed", *card]) == 0
    assert calls[0][1][-2:] == ["--markdown", str(tmp_path / "card" / "views.md")]
    assert calls[1][1][-2:] == ["--markdown", str(tmp_path / "card" / "components.md")]
    calls.clear()
    assert script.main(["--previous", str(previous), "--no-speed", "--no-components"]) == 0
    assert [kind for kind, _ in calls] == ["views"]
    calls.clear()  # without the synthetic view, no components either
    assert script.main(["--previous", str(previous), "--views", "lai", "--no-speed"]) == 0
    assert [kind for kind, _ in calls] == ["views"]
    calls.clear()  # no previous default kept yet: the views and the speed go without one
    monkeypatch.setattr(script, "PREVIOUS", tmp_path / "never_kept.safetensors")
    assert script.main([]) == 0
    assert calls[0][1][:4] == ["-m", "default", "--baseline", "none"]
    assert calls[1] == ("components", ["default", "--photos", calls[1][1][-1]])
    assert calls[2][1][:4] == ["-m", "default", "-m", "fpn_mobilenet"]
    calls.clear()  # ... and a candidate is measured against the shipped default
    assert script.main(["-m", "run.ckpt"]) == 0
    assert calls[0][1][:4] == ["-m", "run.ckpt", "--baseline", "default"]
    assert calls[1][1][:2] == ["run.ckpt", "default"]
    assert calls[2][1][:6] == ["-m", "run.ckpt", "-m", "default", "-m", "fpn_mobilenet"]
