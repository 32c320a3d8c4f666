"""Lay out the real photos the shipped model is trained and tested on, as two folders of sharp photos.

Sources (both installed by the project's own set-up, nothing is downloaded here):
- Debian's ``plasma-workspace-wallpapers``: the 11 photographs among its 2560x1600 wallpapers
  (``make wallpapers`` installs the package).
- The photos bundled inside scikit-image's wheel (``skimage/data``).

Split: two wallpapers and two scikit-image photos are held out as the test set; nothing about
them is used for training or for choosing the checkpoint.

Usage:
    python scripts/prepare_default_data.py data/default
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

WALLPAPERS = Path("/usr/share/wallpapers")
# The 11 photographs among the 2560x1600 wallpapers ("Autumn" is a painting and is left out).
TRAIN_WALLPAPERS = [
    "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "FallenLeaf",
    "Grey", "Kite", "OneStandsOut", "summer_1am",
]  # fmt: skip
TEST_WALLPAPERS = ["EveningGlow", "Path"]
TRAIN_SKIMAGE = ["astronaut.png", "rocket.jpg", "motorcycle_left.png", "camera.png", "brick.png",
                 "grass.png", "gravel.png"]  # fmt: skip
TEST_SKIMAGE = ["chelsea.png", "coffee.png"]


def _link(src: Path, dst: Path) -> None:
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    dst.symlink_to(src)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create train/ and test/ in")
    args = parser.parse_args(argv)
    import skimage

    skdata = Path(skimage.__file__).parent / "data"
    missing = [
        n for n in TRAIN_WALLPAPERS + TEST_WALLPAPERS
        if not (WALLPAPERS / n / "contents/images/2560x1600.jpg").is_file()
    ]  # fmt: skip
    if missing:
        print(
            f"error: wallpapers missing ({', '.join(missing)}); run `make wallpapers`",
            file=sys.stderr,
        )
        return 1
    for split, walls, sk in (("train", TRAIN_WALLPAPERS, TRAIN_SKIMAGE),
                             ("test", TEST_WALLPAPERS, TEST_SKIMAGE)):  # fmt: skip
        folder = args.out / split
        folder.mkdir(parents=True, exist_ok=True)
        for name in walls:
            _link(WALLPAPERS / name / "contents/images/2560x1600.jpg", folder / f"{name}.jpg")
        for name in sk:
            _link(skdata / name, folder / f"skimage_{name}")
        print(f"{folder}: {len(walls) + len(sk)} photos")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
