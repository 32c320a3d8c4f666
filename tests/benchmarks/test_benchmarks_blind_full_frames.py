"""benchmarks/blind_full_frames.py: frames of 1280x720 from large photos, then deblur eval."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "blind_full_frames.py"


def _load() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))  # it imports validation_views beside it
    return load_script(SCRIPT, "blind_full_frames")


script = _load()


def test_frames_are_made_from_large_photos_only(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in {"a": (900, 1600), "b": (1400, 800), "small": (321, 481)}.items():
        Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(photos / f"{name}.jpg")
    (photos / "notes.txt").write_text("not a photo")
    frames = script.make_frames(photos, tmp_path / "frames", 5)
    assert [f.name for f in frames] == ["a.png", "b.png"]
    assert [Image.open(f).size for f in frames] == [(1280, 720), (720, 1280)]


def test_no_large_photo_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p").mkdir()
    Image.new("RGB", (100, 80)).save(tmp_path / "p" / "x.png")
    assert script.main(["--photos", str(tmp_path / "p")]) == 1
    assert "no photo of 1280x720 or more" in capsys.readouterr().err


@pytest.mark.slow
def test_one_frame_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skimage import data

    photos = tmp_path / "photos"
    photos.mkdir()
    big = Image.fromarray(data.astronaut()).resize((1280, 1280))  # a real photo, upscaled
    big.save(photos / "astronaut.png")
    assert script.main(["--photos", str(photos), "--frames", "1", "--items", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1 frames of 1280x720")
    assert [line.split()[0] for line in lines[2:]] == ["identity", "blind", "default"]
    assert all(float(line.split()[1]) > 10 for line in lines[2:])  # PSNRs, not placeholders
