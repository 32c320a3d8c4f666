"""benchmarks/memory_per_megapixel.py: its figures, and the limit ``deblur --help`` quotes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deblurgan.cli.main import main
from deblurgan.cli.restore import FIXED_MB, MB_PER_MEGAPIXEL
from deblurgan.io import DEFAULT_MAX_PIXELS

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "memory_per_megapixel.py"


def test_the_default_limit_fits_an_8_gb_machine_and_help_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    peak_mb = FIXED_MB + MB_PER_MEGAPIXEL * DEFAULT_MAX_PIXELS / 1e6
    assert peak_mb < 0.7 * 8192  # room left for the system and desktop
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"about {MB_PER_MEGAPIXEL} MB per megapixel plus {FIXED_MB} MB" in text
    assert f"the default, {DEFAULT_MAX_PIXELS}, peaks near {peak_mb / 1000:.1f} GB" in text


@pytest.mark.slow
def test_the_script_measures_a_growing_peak(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "0.5,2", "--threads", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    peaks = [float(m) for m in re.findall(r"MP\): peak (\d+) MB", result.stdout)]
    assert len(peaks) == 2 and peaks[1] > peaks[0], result.stdout
    slope = float(re.search(r"memory per megapixel: (\d+) MB", result.stdout)[1])
    assert slope == pytest.approx((peaks[1] - peaks[0]) / 1.5, abs=2)
    assert "at the default limit (100 MP): peak near" in result.stdout
