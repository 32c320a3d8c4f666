"""Build the package's wheel and check that it holds everything ``deblur`` needs at run time.

``make test`` runs it (``make wheelcheck``): a test that reads the source tree cannot see a file
that the packaging leaves out, so this checks the built wheel itself. It must hold every module
of ``src/deblurgan``, every Hydra config, the shipped weights and their model cards, ``py.typed``
and the ``deblur`` entry point.

    python scripts/check_wheel.py            # builds into a temporary folder, prints a summary
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "deblurgan"
#: Non-Python files the package reads at run time, as globs under src/deblurgan.
DATA_GLOBS = (
    "configs/**/*.yaml",
    "weights/*.safetensors",
    "weights/*.md",
    "web/static/*",
    "py.typed",
)


def expected_files() -> set[str]:
    """Paths (inside the wheel) that must be there: modules and run-time data."""
    names = {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    for pattern in DATA_GLOBS:
        names.update(p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.glob(pattern))
    return names


def main() -> int:
    # setuptools stages the build in ROOT/build: a stale copy there could put files deleted
    # from src/ into the wheel, so the check starts without one and leaves none.
    staging = ROOT / "build"
    shutil.rmtree(staging, ignore_errors=True)
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", out, str(ROOT)],
            check=True,
        )  # fmt: skip
        wheels = list(Path(out).glob("deblurgan-*.whl"))
        if len(wheels) != 1:
            print(f"check_wheel: error: expected one wheel, found {wheels}", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheels[0]) as wheel:
            names = set(wheel.namelist())
            entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), "")
            scripts = wheel.read(entry_points).decode() if entry_points else ""
            size = wheels[0].stat().st_size
    shutil.rmtree(staging, ignore_errors=True)
    missing = sorted(expected_files() - names)
    if "deblur = deblurgan.cli.main:run" not in scripts:
        missing.append("entry point deblur = deblurgan.cli.main:run")
    if missing:
        print(f"check_wheel: error: the wheel lacks {len(missing)} file(s):", file=sys.stderr)
        for name in missing:
            print(f"  {name}", file=sys.stderr)
        return 1
    print(
        f"check_wheel: {wheels[0].name} ({size / 1e6:.1f} MB) holds all "
        f"{len(expected_files())} modules and data files and the deblur entry point"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
