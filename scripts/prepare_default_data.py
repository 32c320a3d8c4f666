"""Lay out the real photos the shipped model is trained, validated and tested on (three folders).

Sources (all installed by the project's own set-up, nothing is downloaded here):
- Debian's ``plasma-workspace-wallpapers``: the 11 photographs among its 2560x1600 wallpapers, and
  its other wallpapers (paintings and renders) for training only.
- The photographs among Debian's ``mate-backgrounds`` (its ``nature`` folder) and
  ``lomiri-wallpapers-16.04`` / ``lomiri-wallpapers-20.04`` (Ubuntu's community wallpaper
  photographs, 2 to 20 megapixels). ``make wallpapers`` installs the four Debian packages.
- The photos bundled inside scikit-image's wheel (``skimage/data``).

Split: two Plasma wallpapers and two scikit-image photos are held out as the test set; nothing
about them is used for training or for choosing the checkpoint. Two Plasma/scikit-image photos
and three of the other Debian photographs form the validation set that chooses the checkpoint.

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
    "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour",
    "Grey", "Kite", "OneStandsOut", "summer_1am",
]  # fmt: skip
VAL_WALLPAPERS = ["FallenLeaf"]
# The other wallpapers (paintings and renders, at their largest size) add variety to training.
EXTRA_WALLPAPERS = [
    "Altai/contents/images/5120x2880.png", "Autumn/contents/images/2560x1600.jpg",
    "Canopee/contents/images/3840x2160.png", "Cascade/contents/images/3840x2160.png",
    "Cluster/contents/images/3840x2160.png", "Elarun/contents/images/2560x1600.png",
    "Flow/contents/images/5120x2880.jpg", "FlyingKonqui/contents/images/2560x1600.png",
    "Honeywave/contents/images/5120x2880.jpg", "IceCold/contents/images/5120x2880.png",
    "Kay/contents/images/5120x2880.png", "Kokkini/contents/images/3840x2160.png",
    "MilkyWay/contents/images/5120x2880.png", "Opal/contents/images/3840x2160.png",
    "PastelHills/contents/images/3200x2000.jpg", "Patak/contents/images/5120x2880.png",
    "SafeLanding/contents/images/5120x2880.jpg", "Shell/contents/images/5120x2880.jpg",
    "Volna/contents/images/5120x2880.jpg",
]  # fmt: skip
TEST_WALLPAPERS = ["EveningGlow", "Path"]
BACKGROUNDS = Path("/usr/share/backgrounds")
# The photographs among the other Debian wallpaper packages. Left out: the renders and
# illustrations, "Storm" (its road is motion-blurred on purpose) and the near-abstract
# "analogpattern", "greentock" and "umang".
TRAIN_BACKGROUNDS = [
    "mate/nature/Aqua.jpg", "mate/nature/Blinds.jpg", "mate/nature/Dune.jpg",
    "mate/nature/FreshFlower.jpg", "mate/nature/Garden.jpg", "mate/nature/GreenMeadow.jpg",
    "mate/nature/RainDrops.jpg", "mate/nature/TwoWings.jpg", "mate/nature/Wood.jpg",
    "mate/nature/YellowFlower.jpg", "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg",
    "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
    "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
    "sunset_by_Aitzol_Berasategi.jpg", "Kleiber_by_Lukas_Baubkus.jpg",
]  # fmt: skip
VAL_BACKGROUNDS = [
    "mate/nature/LadyBird.jpg", "Bridge_by_Sander_Klootwijk.jpg",
    "life_by_Aitzol_Berasategi.jpg",
]  # fmt: skip
TRAIN_SKIMAGE = ["astronaut.png", "motorcycle_left.png", "camera.png", "brick.png",
                 "grass.png", "gravel.png"]  # fmt: skip
VAL_SKIMAGE = ["rocket.jpg"]
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
        n for n in TRAIN_WALLPAPERS + VAL_WALLPAPERS + TEST_WALLPAPERS
        if not (WALLPAPERS / n / "contents/images/2560x1600.jpg").is_file()
    ] + [n for n in EXTRA_WALLPAPERS if not (WALLPAPERS / n).is_file()] + [
        n for n in TRAIN_BACKGROUNDS + VAL_BACKGROUNDS if not (BACKGROUNDS / n).is_file()
    ]  # fmt: skip
    if missing:
        print(
            f"error: wallpapers missing ({', '.join(missing)}); run `make wallpapers`",
            file=sys.stderr,
        )
        return 1
    for split, walls, sk, backgrounds in (
        ("train", TRAIN_WALLPAPERS, TRAIN_SKIMAGE, TRAIN_BACKGROUNDS),
        ("val", VAL_WALLPAPERS, VAL_SKIMAGE, VAL_BACKGROUNDS),
        ("test", TEST_WALLPAPERS, TEST_SKIMAGE, []),
    ):
        folder = args.out / split
        if folder.is_dir():  # a re-run lays the split out anew (links only: no photo is touched)
            for old in folder.iterdir():
                if old.is_symlink():
                    old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for name in walls:
            _link(WALLPAPERS / name / "contents/images/2560x1600.jpg", folder / f"{name}.jpg")
        for name in sk:
            _link(skdata / name, folder / f"skimage_{name}")
        for name in backgrounds:
            _link(BACKGROUNDS / name, folder / f"debian_{Path(name).name}")
        extra = EXTRA_WALLPAPERS if split == "train" else []
        for name in extra:
            _link(WALLPAPERS / name, folder / f"extra_{name.split('/')[0]}{Path(name).suffix}")
        print(f"{folder}: {len(walls) + len(sk) + len(backgrounds) + len(extra)} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
