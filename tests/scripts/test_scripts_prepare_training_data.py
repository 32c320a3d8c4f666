"""scripts/prepare_training_data.py: the selection rule, the split and the idempotent layout."""

from __future__ import annotations

import doctest
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "scripts" / "prepare_training_data.py"


def _load() -> ModuleType:
    return load_script(SCRIPT, "prepare_training_data")


ptd = _load()


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(ptd).failed == 0


def _texture(size: int = 96, seed: int = 0) -> np.ndarray:
    """A colourful, finely detailed RGB image in [0, 1] (blocks of random colours, 2 px)."""
    rng = np.random.default_rng(seed)
    blocks = rng.random((size // 2, size // 2, 3))
    return np.kron(blocks, np.ones((2, 2, 1)))


def _box_blur(rgb: np.ndarray, radius: int) -> np.ndarray:
    out = rgb.copy()
    for axis in (0, 1):
        out = sum(np.roll(out, s, axis=axis) for s in range(-radius, radius + 1)) / (2 * radius + 1)
    return out


def test_the_rule_keeps_sharp_texture_and_drops_its_blurred_copy() -> None:
    sharp = ptd.measure_array(_texture())
    blurred = ptd.measure_array(_box_blur(_texture(), 3))
    size = {"width": 640, "height": 480}
    assert ptd.automatic_reason({**sharp, **size}) is None
    assert sharp["sharpness"] > blurred["sharpness"]
    assert ptd.automatic_reason({**blurred, **size}).startswith(("soft", "defocused"))


def test_the_rule_drops_flat_grey_and_small_images() -> None:
    size = {"width": 640, "height": 480}
    flat = ptd.measure_array(np.full((96, 96, 3), 0.4) + np.array([0.0, 0.1, 0.2]))
    assert ptd.automatic_reason({**flat, **size}).startswith("little texture")
    grey = ptd.measure_array(np.repeat(_texture()[..., :1], 3, axis=2))
    assert ptd.automatic_reason({**grey, **size}) == "greyscale"
    small = {**ptd.measure_array(_texture()), "width": 200, "height": 480}
    assert ptd.automatic_reason(small).startswith("too small")


def test_split_is_seeded_by_key_and_keeps_the_old_test_photos() -> None:
    keys = [f"bsds500:{i}" for i in range(3000)]
    splits = [ptd.split_of(k) for k in keys]
    assert splits == [ptd.split_of(k) for k in keys]  # fixed
    for split, share in (("val", ptd.VAL_FRACTION), ("test", ptd.TEST_FRACTION)):
        assert abs(splits.count(split) / len(keys) - share) < 0.02
    assert {ptd.split_of(k) for k in ptd.FORCED_TEST} == {"test"}
    assert ptd.split_of("bsds500:1", seed=1) in ptd.SPLITS


def _photo(folder: Path, name: str, seed: int) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((_texture(64, seed) * 255).astype(np.uint8)).save(path)
    return path


def _measures(**changes: float) -> dict[str, float]:
    base = {"width": 640, "height": 480, "texture": 0.9, "sharpness": 2.0, "soft": 0.0,
            "noise": 0.01, "flat": 0.0, "chroma": 0.4}  # fmt: skip
    return {**base, **changes}


def test_decide_applies_lists_groups_duplicates_and_outside_matches(tmp_path: Path) -> None:
    files = [_photo(tmp_path, f"{name}.png", seed) for seed, name in enumerate("abcdefg")]
    candidates = [
        ptd.Candidate("bsds500", files[0], "l", "o"),  # kept
        ptd.Candidate("opencv", files[1].with_name("aloeR.png"), "l", "o"),  # same scene
        ptd.Candidate("opencv", files[2].with_name("starry_night.png"), "l", "o"),  # excluded
        ptd.Candidate("bsds500", files[3], "l", "o"),  # soft by the rule
        ptd.Candidate("bsds500", files[4], "l", "o"),  # a duplicate of the first
        ptd.Candidate("bsds500", files[5], "l", "o"),  # matches a validation photo
        ptd.Candidate("skimage", files[6].with_name("chelsea.png"), "l", "o"),  # forced test
    ]
    measures = [_measures()] * 7
    measures[3] = _measures(sharpness=0.8)
    measures[6] = _measures(sharpness=0.8)  # the old test photos stay whatever the rule says
    thumbs = np.eye(7, 16)
    thumbs[4] = thumbs[0]
    external = np.eye(1, 16, 5)
    decisions = ptd.decide(candidates, measures, thumbs, external)
    reasons = [d.reason or d.split for d in decisions]
    assert reasons[0] in ptd.SPLITS
    assert reasons[1].startswith("same scene as opencv:aloeL")
    assert reasons[2] == "excluded: painting (Van Gogh)"
    assert reasons[3].startswith("soft")
    assert reasons[4] == "near-duplicate of bsds500:a"
    assert reasons[5].startswith("matches a Lai validation photo")
    assert reasons[6] == "test"


def test_layout_copies_writes_sources_and_is_idempotent(tmp_path: Path) -> None:
    source = [_photo(tmp_path / "src", f"{i}.png", i) for i in range(3)]
    decisions = [
        ptd.Decision(ptd.Candidate("kodak24", source[0], "free", "o0"), _measures(), split="train"),
        ptd.Decision(ptd.Candidate("kodak24", source[1], "free", "o1"), _measures(), split="test"),
        ptd.Decision(ptd.Candidate("kodak24", source[2], "free", "o2"), _measures(), reason="x"),
    ]
    out = tmp_path / "out"
    stale = out / "val" / "old.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    counts = ptd.write_layout(out, decisions)
    assert counts == {"kodak24": {"train": 1, "val": 0, "test": 1, "dropped": 1}}
    assert (out / "train" / "kodak24_0.png").read_bytes() == source[0].read_bytes()
    assert not (out / "train" / "kodak24_0.png").is_symlink()
    assert not stale.exists()
    assert "kodak24_1.png,test,kodak24,free" in (out / "SOURCES.csv").read_text()
    assert "x" in (out / "DROPPED.csv").read_text()
    assert not ptd.is_complete(out)  # no stamp yet
    (out / ".complete").write_text(ptd._fingerprint())
    assert ptd.is_complete(out)
    (out / "test" / "kodak24_1.png").unlink()
    assert not ptd.is_complete(out)


def test_main_returns_at_once_when_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    photo = _photo(tmp_path / "src", "a.png", 0)
    decision = ptd.Decision(ptd.Candidate("kodak24", photo, "free", "o"), _measures(), "train")
    ptd.write_layout(tmp_path / "out", [decision])
    (tmp_path / "out" / ".complete").write_text(ptd._fingerprint())
    # Nothing else exists here (no shared folder, no apt-get): only the check runs.
    assert ptd.main([str(tmp_path / "out"), "--shared", str(tmp_path / "missing")]) == 0
    assert "up to date" in capsys.readouterr().out
    assert ptd.main([str(tmp_path / "other"), "--shared", str(tmp_path / "missing")]) == 1
