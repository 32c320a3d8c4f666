"""benchmarks/tlc_effect.py: one nafnet saved with TLC on and off, both scored by the views."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from deblurgan.models import build_generator, load_generator, save_generator
from script_loader import load_script

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def _load() -> ModuleType:
    return load_script(BENCHMARKS / "tlc_effect.py", "tlc_effect")


def _tiny(name: str, **kwargs: object) -> object:
    return build_generator({"name": name, **kwargs})


def test_scores_the_same_weights_with_tlc_on_and_off_and_passes_options_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _tiny(
        "nafnet", width=4, enc_blocks=[1, 1], middle_blocks=1, dec_blocks=[1, 1], train_size=32
    )
    source = save_generator(model, tmp_path / "tiny.safetensors")
    sys.path.insert(0, str(BENCHMARKS))
    import validation_views

    seen: dict[str, object] = {}

    def fake_main(argv: list[str]) -> int:
        models = [argv[i + 1] for i, a in enumerate(argv) if a == "-m"]
        seen["argv"] = argv
        seen["tlc"] = [load_generator(m).tlc for m in models]
        seen["same"] = all(
            (a == b).all()
            for m in models
            for a, b in zip(
                load_generator(m).state_dict().values(), model.state_dict().values(), strict=True
            )
        )
        return 0

    monkeypatch.setattr(validation_views, "main", fake_main)
    code = _load().main([str(source), "--views", "synthetic", "--crop-size", "0"])
    assert code == 0
    assert seen["tlc"] == [True, False]
    assert seen["same"] is True
    argv = seen["argv"]
    assert isinstance(argv, list)
    assert argv[:4] == ["--views", "synthetic", "--baseline", "none"]
    assert argv[-2:] == ["--crop-size", "0"]


def test_refuses_a_model_without_tlc(tmp_path: Path) -> None:
    source = save_generator(_tiny("lite_unet"), tmp_path / "unet.safetensors")
    with pytest.raises(SystemExit):
        _load().main([str(source)])
