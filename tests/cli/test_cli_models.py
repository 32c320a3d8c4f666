"""``deblur models``: the table's columns, the JSON record of each generator, the size option."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from deblurgan.cli.main import main
from deblurgan.models import GENERATORS
from deblurgan.models.complexity import generator_macs


@pytest.mark.slow  # every generator's MACs at paper size: 11 to 14 s
def test_models_json_has_paper_size_macs_and_known_weights(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "--json", "--size", "256x128"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["size"] == [256, 128]
    rows = {row["name"]: row for row in info["generators"]}
    assert set(rows) == set(GENERATORS)
    for name, row in rows.items():
        assert row["macs"] == generator_macs(name, height=128, width=256) > 0
        assert row["gmacs"] == round(row["macs"] / 1e9, 3)
        assert row["weights_known"] == bool(row["shipped_weights"] or row["public_weights"])
    # The DeblurGAN generator at 256x128: hand count of its convolutions (width 64, 9 blocks).
    px = 256 * 128
    resnet = (
        px * 64 * 3 * 49  # 7x7 head
        + px // 4 * 128 * 64 * 9  # stride-2 convolutions
        + px // 16 * 256 * 128 * 9
        + 9 * 2 * px // 16 * 256 * 256 * 9  # residual blocks
        + px // 16 * 128 * 256 * 9  # transposed convolutions: inputs x C_out x 9
        + px // 4 * 64 * 128 * 9
        + px * 3 * 64 * 49  # 7x7 tail
    )
    assert rows["resnet"]["macs"] == resnet
    assert rows["resnet"]["paper"] == "Kupyn et al. 2018 (DeblurGAN)"
    assert rows["resnet"]["public_weights"] and rows["resnet"]["weights_known"]
    assert rows["rir"]["paper"].startswith("Zhang et al. 2018") and not rows["rir"]["weights_known"]
    assert rows["unet"]["size_multiple"] == 256 and rows["unet"]["parameters"] == 54_413_955


def test_models_table_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:3] == ["generator", "paper", "parameters"]
    assert "GMACs@1280x720" in header and "multiple" in header and "known" in header
    fpn = next(line for line in out.splitlines() if line.startswith("fpn_mobilenet "))
    assert "DeblurGAN-v2" in fpn and "fpn_mobilenet.h5" in fpn
    assert f"{generator_macs('fpn_mobilenet') / 1e9:.1f}" in fpn
    # The paper's count beside the live one, so nobody takes 2.11 M for the published model.
    assert "published" in header
    assert re.search(r"\(DeblurGAN-v2\)\s+2\.11 M\s+3\.31 M\s", fpn)
    unet = next(line for line in out.splitlines() if line.startswith("unet "))
    assert " - " in unet


def test_models_rejects_a_bad_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--size", "1280"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


@pytest.mark.slow  # every generator's MACs at paper size: 11 to 14 s
def test_models_table_survives_a_generator_that_cannot_be_counted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import deblurgan.models.complexity as complexity

    real = complexity.generator_macs

    def failing(name: str, *args: object, **kwargs: object) -> int:
        if name == "rir":
            raise RuntimeError("no kernel")
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(complexity, "generator_macs", failing)
    assert main(["models", "--json", "--size", "64x64"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["generators"]}
    assert rows["rir"]["macs"] is None and rows["rir"]["gmacs"] is None
    assert rows["resnet"]["macs"] is not None
    assert main(["models", "--size", "64x64"]) == 0
    rir = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("rir "))
    assert " - " in rir


def test_a_reader_that_goes_away_ends_the_listing_quietly() -> None:
    # `deblur models | head -3`: the pipe closes before deblur writes; no traceback, code 141.
    process = subprocess.Popen(
        [sys.executable, "-m", "deblurgan", "models"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err
