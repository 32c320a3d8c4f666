"""scripts/ship_default.py: a run's weight average shipped, the old weights kept, TLC off."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from deblurgan.models import load_generator, save_generator
from deblurgan.models.weights import build_generator
from script_loader import load_script

SCRIPT = Path(__file__).parents[2] / "scripts" / "ship_default.py"


def _load() -> ModuleType:
    return load_script(SCRIPT, "ship_default")


@pytest.mark.parametrize(("choice", "expected"), [("off", False), ("on", True), ("run", True)])
def test_ships_the_weight_average_with_the_chosen_tlc(
    nafnet_run: Path, tmp_path: Path, choice: str, expected: bool
) -> None:
    out, old = tmp_path / "ship" / "default.safetensors", tmp_path / "baselines" / "v1.safetensors"
    out.parent.mkdir()
    previous = save_generator(build_generator({"name": "lite_unet", "width": 4, "blocks": 1}), out)
    before = previous.read_bytes()
    argv = [str(nafnet_run), "--out", str(out), "--keep-old", str(old), "--tlc", choice]
    assert _load().main(argv) == 0
    assert old.read_bytes() == before  # the replaced weights are kept once
    shipped = load_generator(out)
    assert shipped.arch_spec["name"] == "nafnet" and shipped.tlc is expected
    assert shipped.checkpoint_meta["recipe"]["generator"]["tlc"] is expected
    ema = load_generator(nafnet_run)  # a training checkpoint loads as its weight average
    torch.testing.assert_close(shipped.state_dict(), ema.state_dict(), rtol=0, atol=0)
    assert not list(out.parent.glob("*.staged.*"))


def test_refuses_a_run_without_its_config(nafnet_run: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "elsewhere" / "checkpoints" / "last.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(nafnet_run.read_bytes())
    out = tmp_path / "default.safetensors"
    assert (
        _load().main([str(checkpoint), "--out", str(out), "--keep-old", str(tmp_path / "o")]) == 1
    )
    assert not out.exists()
