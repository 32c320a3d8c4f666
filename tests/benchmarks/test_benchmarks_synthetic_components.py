"""benchmarks/synthetic_components.py: the same items under three settings, split by averaging."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.blur.realistic import RealisticDegradation
from deblurgan.inference import load_eval_dataset
from deblurgan.models import build_generator, save_generator
from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "synthetic_components.py"


def _photos(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(2):
        photo = (rng.random((24, 32, 3)) * 255).astype(np.uint8).repeat(3, 0).repeat(3, 1)
        Image.fromarray(photo).save(folder / f"p{i}.png")
    return folder


def test_three_settings_by_averaging_domain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = load_script(SCRIPT, "synthetic_components")
    photos = _photos(tmp_path / "photos")
    torch.manual_seed(0)
    models = [
        str(save_generator(build_generator({"name": "resnet", "width": 4, "n_blocks": 1}), path))
        for path in (tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    ]
    out = tmp_path / "f.json"
    args = [*models, "--photos", str(photos), "--items", "6", "--crop-size", "48"]
    card = tmp_path / "card.md"
    assert script.main([*args, "--json", str(out), "--markdown", str(card)]) == 0
    printed = capsys.readouterr().out.splitlines()
    markdown = card.read_text().splitlines()
    assert markdown[0] == f"**{models[0]}**"
    assert markdown[2] == "| setting | all gain | linear light gain | gamma space gain |"
    assert [line.split(" | ")[0] for line in markdown[4:7]] == [
        "| pipeline",
        "| no highlights",
        "| clean",
    ]
    for model in models:  # a table per model: its name, the header, three settings
        at = printed.index(model)
        assert printed[at + 1].split()[:2] == ["setting", "all"]
        assert [line.split()[0] for line in printed[at + 2 : at + 5]] == ["pipeline", "no", "clean"]
        assert "items)" in printed[at + 2]
    figures = json.loads(out.read_text())
    assert list(figures) == models
    for table in figures.values():
        assert list(table) == ["pipeline", "no highlights", "clean"]
        for row in table.values():
            assert row["all"]["items"] == 6
            domains = [g for g in row if g != "all"]
            assert sum(row[g]["items"] for g in domains) == 6
            for entry in row.values():
                assert entry["gain"] == pytest.approx(entry["model"] - entry["input"])
    first, second = figures.values()  # the same items for both models: the same inputs
    for setting in first:
        assert first[setting]["all"]["input"] == second[setting]["all"]["input"]
    assert first["pipeline"]["all"]["model"] != second["pipeline"]["all"]["model"]
    # The settings change only what they turn off: the same blur per item, a cleaner input.
    params = []
    for changes in script.SETTINGS.values():
        data = load_eval_dataset(
            photos,
            format="synthetic",
            crop_size=48,
            length=6,
            degradation=RealisticDegradation(**changes),
        )
        [data[i] for i in range(6)]
        params.append(data.item_params)
    for name in params[0]:
        same = {(p[name]["kind"], p[name]["blur_px"], p[name]["averaging"]) for p in params}
        assert len(same) == 1
    assert {p["jpeg_quality"] for p in params[2].values()} == {None}
    assert first["clean"]["all"]["input"] > first["pipeline"]["all"]["input"]


def test_a_missing_photo_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = load_script(SCRIPT, "synthetic_components")
    assert script.main(["default", "--photos", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such folder" in err[0]
