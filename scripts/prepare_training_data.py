"""Lay out the sharp photos that training, validation and the held-out test use (make data).

Sources (nothing comes from outside the project's own set-up; ``docs/training_data.md`` lists
every source with its licence, the counts and the exclusion list):

- the shared photo folder (``../shared/data/photos``): BSDS500 (500 photos) and Kodak24 (24);
- Debian's wallpaper packages that ``make wallpapers`` installs: ``plasma-workspace-wallpapers``
  (each wallpaper at its largest size), ``mate-backgrounds``, ``lomiri-wallpapers-16.04`` and
  ``-20.04``;
- Debian's ``palapeli-data`` and ``opencv-doc``, fetched with ``apt-get download`` and unpacked
  with ``dpkg-deb -x`` into a temporary folder (nothing is installed);
- the photos bundled inside scikit-image's wheel (``skimage/data``).

Selection: every candidate is measured on its luma, downscaled (never upscaled) so that its short
side is at most 720 px (roughly the scale training uses, and 1:1 for the small photos), in 16 px
tiles. *Texture* is the share of tiles with a mean gradient above 0.01 (2.5 grey levels per px);
*sharpness* is the median, over those tiles, of mean |Laplacian| / mean gradient (crisp edges give
about 2, defocus or motion blur under 1.2; the ratio does not depend on contrast); *soft* is the
share of those tiles whose ratio is under 1 (defocused or blurred area). A candidate is dropped
automatically when it is too small, greyscale, has little texture, is render-like (flat noiseless
areas), is soft, or has a large soft share (:func:`automatic_reason`), and by the reviewed
exclusion list :data:`EXCLUDE` (paintings, renders, bokeh that the measures miss, ...).
Different views of one scene (stereo pairs, optical-flow frames, sizes of one wallpaper) keep one
member (:data:`SAME_SCENE`), and near-identical images are caught by a thumbnail correlation,
which also makes sure that no photo of Lai et al.'s validation set or of the real blurred photos
is among them.

Split: fixed and seeded, by source photo: ``sha256(seed:key)`` mapped to [0, 1) puts 10 % in val
and 10 % in test, the rest in train. The held-out test photos of the previous default split
(:data:`FORCED_TEST`) stay in test whatever the hash says, so old and new test figures compare.

Output: ``OUT/{train,val,test}/<source>_<name>`` (byte copies, never links: the shared folder is
read-only in CI), ``OUT/SOURCES.csv`` (one row per kept photo), ``OUT/DROPPED.csv`` (one row per
dropped candidate, with the reason) and a stamp; a second run with the same selection only checks
the files and returns at once. Measures are cached by file content in ``OUT/.measures.json``.

Usage:
    python scripts/prepare_training_data.py data/train_photos           # make data
    python scripts/prepare_training_data.py data/train_photos --contact-sheets /tmp/sheets
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
WALLPAPERS = Path("/usr/share/wallpapers")
BACKGROUNDS = Path("/usr/share/backgrounds")
DEBIAN_DOWNLOADS = ("palapeli-data", "opencv-doc")
SPLITS = ("train", "val", "test")
SEED = 20_260_512
VAL_FRACTION = 0.10
TEST_FRACTION = 0.10
#: Bump when the rule, the lists or the layout change: a stamp with another version re-runs.
VERSION = 1

# ---------------------------------------------------------------------------- the rule
MEASURE_SIDE = 720  # short side the measures are taken at (never upscaled)
TILE = 16
ACTIVE_GRADIENT = 0.01  # a tile with a mean gradient above this holds detail
MIN_SIDE = 300
MIN_CHROMA = 0.02  # largest |channel - grey| of any pixel: under it the photo is greyscale
MIN_TEXTURE = 0.30
MIN_SHARPNESS = 1.20
MAX_SOFT = 0.35
RENDER_FLAT = 0.25  # share of exactly flat 8x8 blocks (8-bit) ...
RENDER_NOISE = 0.004  # ... with almost no sensor noise (Immerkaer's estimate, [0, 1] units)
DUPLICATE_CORRELATION = 0.97

#: The previous default split's held-out test photos: kept in test, whatever the rule says.
FORCED_TEST = ("plasma:EveningGlow", "plasma:Path", "skimage:chelsea", "skimage:coffee")

#: Reviewed exclusions (contact sheets of what the rule keeps, at the measuring scale and 1:1).
EXCLUDE: dict[str, str] = {
    # Renders, paintings and illustrations that pass the measures.
    "plasma:Autumn": "painting",
    "plasma:Patak": "render (3-D illustration)",
    "plasma:Patak_dark": "render (3-D illustration)",
    "plasma:SafeLanding": "illustration with added grain",
    "plasma:Canopee": "render",
    "plasma:Opal": "render",
    "mate:Elephants": "digital painting (psychedelic art)",
    "mate:Gulp": "abstract render (gradient and grain)",
    "lomiri:Infinite-Sea_by_Aury88": "digital composite (sky render over a horizon)",
    "lomiri:analogpattern_by_Peter_Nerlich": "near-abstract, blotchy surface with no crisp detail",
    "lomiri:greentock_by_Peter_Nerlich": "near-abstract, smooth surfaces",
    "opencv:starry_night": "painting (Van Gogh)",
    "opencv:ml": "illustration",
    "opencv:pic2": "synthetic shapes on noise",
    "opencv:pic5": "synthetic shapes",
    "opencv:imageTextR": "rendered text",
    "opencv:ela_modified": "manipulated copy of ela_original (pasted object)",
    "opencv:sudoku": "document photo, nearly grey",
    "opencv:left": "dark, noisy low-light snapshot (stereo left)",
    "skimage:hubble_deep_field": "astronomical image (point sources on black)",
    "skimage:ihc": "microscopy (stained tissue), not a camera photo",
    "skimage:retina": "medical fundus image",
    "skimage:logo": "logo",
    # Bokeh or blur over much of the frame, seen at the measuring scale; the measures missed it.
    "plasma:BytheWater": "shallow depth of field: most of the deck is defocused",
    "mate:Dune": "defocused foreground grass over much of the frame",
    "palapeli:panther-chameleon-female": "bokeh background over much of the frame",
    "bsds500:35058": "bokeh: defocused leaves around a ladybird",
    "bsds500:100099": "defocused foreground and background",
    "bsds500:106024": "blurred background (surf)",
    "bsds500:103070": "soft, defocused background",
    "bsds500:153077": "motion-blurred swimmer, dark",
}

#: Views of one scene: every member maps to the one kept (the first of each group).
SAME_SCENE: dict[str, str] = {
    "opencv:aloeR": "opencv:aloeL",
    "opencv:aloeGT": "opencv:aloeL",
    "opencv:leuvenB": "opencv:leuvenA",
    "opencv:rubberwhale2": "opencv:rubberwhale1",
    "opencv:graf3": "opencv:graf1",
    "opencv:aero3": "opencv:aero1",
    "opencv:basketball2": "opencv:basketball1",
    "opencv:right": "opencv:left",
    "skimage:motorcycle_right": "skimage:motorcycle_left",
    "skimage:chessboard_RGB": "skimage:chessboard_GRAY",
    "mate:Elephants_3840x2160": "mate:Elephants",
    "mate:Elephants_5640x3172": "mate:Elephants",
    **{f"opencv:right{i:02d}": f"opencv:left{i:02d}" for i in range(1, 15)},
}

#: Licences of the sources that carry one licence (the Debian copyright files give the others).
SOURCE_LICENCES = {
    "bsds500": "BSDS500 (Arbelaez et al. 2011; Corel images): research and education use",
    "kodak24": "Kodak Lossless True Color suite: released by Kodak for unrestricted use",
    "opencv": "OpenCV samples (Debian opencv-doc): BSD-3-Clause AND Apache-2.0",
}
SKIMAGE_LICENCES = {
    "astronaut": "public domain (NASA)",
    "chelsea": "CC0 (Stefan van der Walt)",
    "coffee": "CC0 (Rachel Michetti)",
    "rocket": "public domain (SpaceX)",
    "camera": "CC0 (Lav Varshney)",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (CC0Textures)",
    "gravel": "CC0 (CC0Textures)",
    "hubble_deep_field": "public domain (NASA)",
    "retina": "CC0",
    "clock_motion": "public domain (Stefan van der Walt)",
    "horse": "CC0 (Andreas Preuss)",
    "motorcycle_left": "Middlebury stereo 2014 (Scharstein et al.), bundled with scikit-image",
    "motorcycle_right": "Middlebury stereo 2014 (Scharstein et al.), bundled with scikit-image",
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


# ------------------------------------------------------------------------ candidates
@dataclass(frozen=True)
class Candidate:
    """One sharp-photo candidate: ``key`` is ``source:stem``, unique over all sources."""

    source: str
    path: Path
    licence: str
    origin: str  # where it comes from, for SOURCES.csv (a package path or a shared-folder path)

    @property
    def stem(self) -> str:
        return self.key.split(":", 1)[1]

    @property
    def key(self) -> str:
        if self.source == "plasma":  # <name>/contents/images[_dark]/<size>.<ext>
            name = self.path.parents[2].name
            return f"plasma:{name}{'_dark' if self.path.parent.name.endswith('_dark') else ''}"
        return f"{self.source}:{self.path.stem}"

    @property
    def file_name(self) -> str:
        return f"{self.source}_{self.stem}{self.path.suffix.lower()}"


def parse_debian_copyright(text: str) -> list[tuple[list[str], str]]:
    """``[(file patterns, licence), ...]`` of a machine-readable Debian copyright file (DEP-5).

    Example:
        >>> text = "Files: *\\nLicense: GPL-2+\\n\\nFiles: a/x.jpg\\n b/*.png\\nLicense: CC0-1.0\\n"
        >>> parse_debian_copyright(text)
        [(['*'], 'GPL-2+'), (['a/x.jpg', 'b/*.png'], 'CC0-1.0')]
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        files: list[str] = []
        licence = None
        field = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")):
                if field == "Files":
                    files += line.split()
                continue
            field, _, value = line.partition(":")
            if field == "Files":
                files += value.split()
            elif field == "License" and licence is None:
                licence = value.strip()
        if files and licence:
            paragraphs.append((files, licence))
    return paragraphs


def debian_licence(path: Path, paragraphs: Sequence[tuple[list[str], str]]) -> str | None:
    """The licence DEP-5 gives ``path``: the last paragraph whose pattern matches its tail.

    Example:
        >>> rules = [(["*"], "GPL-2+"), (["16.04/x_by_y.jpg"], "CC-BY-4.0")]
        >>> debian_licence(Path("/usr/share/backgrounds/x_by_y.jpg"), rules)
        'CC-BY-4.0'
    """
    found = None
    for patterns, licence in paragraphs:
        for pattern in patterns:
            depth = pattern.count("/") + 1
            tail = "/".join(path.parts[-depth:])
            # Source-tree folders ("16.04/x.jpg") differ from installed ones: a pattern whose
            # file name is literal matches that file name anywhere.
            literal = pattern.rsplit("/", 1)[-1]
            same_name = not any(ch in literal for ch in "*?[") and literal == path.name
            if fnmatch.fnmatchcase(tail, pattern) or same_name:
                found = licence
    return found


def _package_licence(package: str, path: Path, default: str) -> str:
    copyright_file = Path("/usr/share/doc") / package / "copyright"
    try:
        rules = parse_debian_copyright(copyright_file.read_text(errors="replace"))
    except OSError:
        return default
    return debian_licence(path, rules) or default


def _largest_wallpaper(folder: Path) -> Path | None:
    def pixels(file: Path) -> int:
        match = re.match(r"(\d+)x(\d+)", file.stem)
        return int(match.group(1)) * int(match.group(2)) if match else 0

    files = _images(folder)
    return max(files, key=pixels) if files else None


def _images(folder: Path, recursive: bool = False) -> list[Path]:
    if not folder.is_dir():
        return []
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def list_candidates(
    shared: Path, debian: Path | None, skimage_data: Path | None
) -> list[Candidate]:
    """Every candidate photo, in a fixed order.

    Args:
        shared: the shared data folder (``photos/bsds500/{train,val,test}``, ``photos/kodak24``).
        debian: where ``palapeli-data`` and ``opencv-doc`` were unpacked (``None``: skip them).
        skimage_data: scikit-image's ``data`` folder (``None``: skip it).
    """
    out: list[Candidate] = []
    for split in ("train", "val", "test"):
        for path in _images(shared / "photos" / "bsds500" / split):
            origin = f"shared/data/photos/bsds500/{split}/{path.name}"
            out.append(Candidate("bsds500", path, SOURCE_LICENCES["bsds500"], origin))
    for path in _images(shared / "photos" / "kodak24"):
        origin = f"shared/data/photos/kodak24/{path.name}"
        out.append(Candidate("kodak24", path, SOURCE_LICENCES["kodak24"], origin))
    if WALLPAPERS.is_dir():
        for folder in sorted(WALLPAPERS.iterdir()):
            for sub in ("images", "images_dark"):
                best = _largest_wallpaper(folder / "contents" / sub)
                if best is not None:
                    licence = _package_licence("plasma-workspace-wallpapers", best, "GPL-2+")
                    out.append(Candidate("plasma", best, f"{licence} (KDE)", str(best)))
    for path in _images(BACKGROUNDS, recursive=True):
        if "mate" in path.relative_to(BACKGROUNDS).parts:
            licence = _package_licence("mate-backgrounds", path, "GPL-2+")
            out.append(Candidate("mate", path, licence, str(path)))
        else:
            licence = _package_licence("lomiri-wallpapers-16.04", path, "")
            licence = licence or _package_licence("lomiri-wallpapers-20.04", path, "CC-BY-SA")
            author = path.stem.split("_by_", 1)[1].replace("_", " ") if "_by_" in path.stem else ""
            shown = f"{licence} ({author})" if author else licence
            out.append(Candidate("lomiri", path, shown, str(path)))
    if debian is not None:
        collection = debian / "palapeli-data" / "usr/share/palapeli/collection"
        for path in _images(collection):
            out.append(
                Candidate("palapeli", path, _palapeli_licence(path), f"palapeli-data:{path.name}")
            )
        samples = debian / "opencv-doc" / "usr/share/doc/opencv-doc/examples/data"
        for path in _images(samples):
            origin = f"opencv-doc:examples/data/{path.name}"
            out.append(Candidate("opencv", path, SOURCE_LICENCES["opencv"], origin))
    if skimage_data is not None:
        for path in _images(skimage_data):
            licence = SKIMAGE_LICENCES.get(
                path.stem, "scikit-image bundled data (see skimage.data)"
            )
            out.append(Candidate("skimage", path, licence, f"skimage/data/{path.name}"))
    return out


def _palapeli_licence(photo: Path) -> str:
    desktop = photo.with_suffix(".desktop")
    try:
        text = desktop.read_text(errors="replace")
    except OSError:
        return "see palapeli-data"
    fields = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in text.splitlines())
        if name.startswith("X-KDE-PluginInfo-")
    }
    licence = fields.get("X-KDE-PluginInfo-License", "see palapeli-data").strip()
    licence = {"FDL": "GFDL", "GNU-FDL": "GFDL"}.get(licence, licence)
    author = fields.get("X-KDE-PluginInfo-Author", "").strip()
    return f"{licence} ({author}, Wikimedia Commons)" if author else licence


# ---------------------------------------------------------------------------- measures
def _working_image(path: Path, side: int = MEASURE_SIDE) -> tuple[int, int, np.ndarray]:
    """``(width, height, rgb)``: float64 RGB in [0, 1], short side at most ``side``."""
    with Image.open(path) as file:
        width, height = file.size
        short = min(width, height)
        if file.format == "JPEG" and short > 2 * side:  # decode at a reduced size (fast)
            file.draft("RGB", (width * side // short, height * side // short))
        image = file.convert("RGB")
    if min(image.size) > side:
        factor = side / min(image.size)
        size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    rgb = np.asarray(image, dtype=np.float64) / 255.0
    return width, height, rgb


def _tiles(array: np.ndarray, size: int) -> np.ndarray:
    rows, cols = array.shape[0] // size, array.shape[1] // size
    cut = array[: rows * size, : cols * size]
    return cut.reshape(rows, size, cols, size).swapaxes(1, 2).reshape(rows * cols, size * size)


def measure_array(rgb: np.ndarray) -> dict[str, float]:
    """The selection measures of an RGB image ``(H, W, 3)`` in [0, 1] (see the module docstring).

    Example:
        >>> flat = measure_array(np.full((64, 64, 3), 0.5))
        >>> flat["texture"], flat["chroma"], flat["flat"]
        (0.0, 0.0, 1.0)
        >>> noise = np.random.default_rng(0).random((64, 64, 3))
        >>> measure_array(noise)["texture"], measure_array(noise)["sharpness"] > 2
        (1.0, True)
    """
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    inner = luma[1:-1, 1:-1]
    gx = (luma[1:-1, 2:] - luma[1:-1, :-2]) / 2
    gy = (luma[2:, 1:-1] - luma[:-2, 1:-1]) / 2
    gradient = np.hypot(gx, gy)
    laplacian = 4 * inner - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    tile_gradient = _tiles(gradient, TILE).mean(axis=1)
    tile_laplacian = _tiles(np.abs(laplacian), TILE).mean(axis=1)
    active = tile_gradient > ACTIVE_GRADIENT
    ratio = tile_laplacian[active] / tile_gradient[active]
    # Immerkaer (1996): noise sigma from the second-difference mask, over the whole image.
    mask = (
        luma[:-2, :-2] - 2 * luma[:-2, 1:-1] + luma[:-2, 2:]
        - 2 * luma[1:-1, :-2] + 4 * inner - 2 * luma[1:-1, 2:]
        + luma[2:, :-2] - 2 * luma[2:, 1:-1] + luma[2:, 2:]
    )  # fmt: skip
    noise = float(np.sqrt(np.pi / 2) * np.abs(mask).mean() / 6)
    levels = np.round(luma * 255)
    flat = float((_tiles(levels, 8).std(axis=1) < 0.5).mean()) if min(luma.shape) >= 8 else 1.0
    chroma = float(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).max())
    return {
        "texture": float(active.mean()) if active.size else 0.0,
        "sharpness": float(np.median(ratio)) if ratio.size else 0.0,
        "soft": float((ratio < 1.0).mean()) if ratio.size else 1.0,
        "noise": noise,
        "flat": flat,
        "chroma": chroma,
    }


def measure_file(path: str) -> dict[str, float]:
    """:func:`measure_array` of a photo at the measuring scale, and its full width and height."""
    width, height, rgb = _working_image(Path(path))
    return {"width": width, "height": height, **measure_array(rgb)}


def automatic_reason(m: dict[str, float]) -> str | None:
    """Why the automatic rule drops a photo of measures ``m``, or ``None`` to keep it.

    Example:
        >>> base = dict(width=800, height=600, texture=0.9, sharpness=2.0, soft=0.0,
        ...             noise=0.01, flat=0.0, chroma=0.4)
        >>> automatic_reason(base) is None, automatic_reason({**base, "sharpness": 0.9})
        (True, 'soft: sharpness 0.90 < 1.2')
    """
    if min(m["width"], m["height"]) < MIN_SIDE:
        return f"too small: short side {min(m['width'], m['height']):.0f} < {MIN_SIDE} px"
    if m["chroma"] < MIN_CHROMA:
        return "greyscale"
    if m["texture"] < MIN_TEXTURE:
        return f"little texture: {m['texture']:.2f} < {MIN_TEXTURE} of the frame"
    if m["flat"] > RENDER_FLAT and m["noise"] < RENDER_NOISE:
        return f"render-like: {m['flat']:.2f} of the frame exactly flat, no sensor noise"
    if m["sharpness"] < MIN_SHARPNESS:
        return f"soft: sharpness {m['sharpness']:.2f} < {MIN_SHARPNESS}"
    if m["soft"] > MAX_SOFT:
        return f"defocused share: {m['soft']:.2f} > {MAX_SOFT} of the detailed tiles are soft"
    return None


def _thumbnail(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft("L", (64, 64))
        small = image.convert("L").resize((32, 32), Image.Resampling.BILINEAR)
    vector = np.asarray(small, dtype=np.float64).ravel()
    vector -= vector.mean()
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def split_of(key: str, *, seed: int = SEED) -> str:
    """The split of a source photo: a seeded hash of its key, or test for :data:`FORCED_TEST`.

    Example:
        >>> split_of("skimage:chelsea"), split_of("bsds500:100007") in ("train", "val", "test")
        ('test', True)
    """
    if key in FORCED_TEST:
        return "test"
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < TEST_FRACTION:
        return "test"
    if u < TEST_FRACTION + VAL_FRACTION:
        return "val"
    return "train"


# ----------------------------------------------------------------------------- running
def _fingerprint() -> str:
    """What decides the selection: a change re-runs even when every file is in place."""
    parts = [
        VERSION, SEED, VAL_FRACTION, TEST_FRACTION, MEASURE_SIDE, TILE, ACTIVE_GRADIENT, MIN_SIDE,
        MIN_CHROMA, MIN_TEXTURE, MIN_SHARPNESS, MAX_SOFT, RENDER_FLAT, RENDER_NOISE,
        DUPLICATE_CORRELATION, sorted(FORCED_TEST), sorted(EXCLUDE), sorted(SAME_SCENE.items()),
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def is_complete(out: Path) -> bool:
    """Whether ``out`` holds a finished layout of this selection (stamp and every file, sized)."""
    stamp, sources = out / ".complete", out / "SOURCES.csv"
    try:
        if stamp.read_text().strip() != _fingerprint():
            return False
        with open(sources, newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError:
        return False
    return bool(rows) and all(
        (out / r["split"] / r["file"]).is_file()
        and (out / r["split"] / r["file"]).stat().st_size == int(r["bytes"])
        for r in rows
    )


def _download_debian(packages: Sequence[str], into: Path) -> Path:
    """``apt-get download`` the packages and unpack them (``dpkg-deb -x``); returns the folder."""
    debs = into / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    command = ["apt-get", "download", "-qq", *packages]
    result = subprocess.run(command, cwd=debs, capture_output=True, text=True, check=False)
    if result.returncode != 0 and os.geteuid() == 0:  # package lists never fetched: fetch them
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        result = subprocess.run(command, cwd=debs, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"apt-get download {' '.join(packages)} failed: {result.stderr.strip()[-300:]}"
        )
    unpacked = into / "unpacked"
    for package in packages:
        (unpacked / package).mkdir(parents=True, exist_ok=True)
        deb = next(debs.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked / package)], check=True)
    return unpacked


def _skimage_data() -> Path | None:
    try:
        import skimage
    except ImportError:
        return None
    return Path(skimage.__file__).parent / "data"


def _measure_all(
    candidates: Sequence[Candidate], cache_file: Path, jobs: int
) -> list[dict[str, float]]:
    try:
        cache: dict[str, dict[str, float]] = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    from deblurgan.io.download import sha256_file

    digests = [sha256_file(c.path) for c in candidates]
    todo = sorted(
        {d: c for d, c in zip(digests, candidates, strict=True) if d not in cache}.items()
    )
    if todo:
        print(f"measuring {len(todo)} photo(s) ...", file=sys.stderr)
        paths = [str(c.path) for _, c in todo]
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                results = list(pool.map(measure_file, paths, chunksize=4))
        else:
            results = [measure_file(p) for p in paths]
        for (digest, _), result in zip(todo, results, strict=True):
            cache[digest] = result
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(cache, indent=0, sort_keys=True))
    return [cache[d] for d in digests]


@dataclass
class Decision:
    """What happens to one candidate: its split when kept, else why it was dropped."""

    candidate: Candidate
    measures: dict[str, float]
    split: str | None = None
    reason: str | None = None


def decide(
    candidates: Sequence[Candidate],
    measures: Sequence[dict[str, float]],
    thumbnails: np.ndarray,
    external: np.ndarray,
) -> list[Decision]:
    """Apply the exclusion list, the scene groups, the rule and the duplicate checks; split.

    Args:
        candidates: every candidate.
        measures: their measures (:func:`measure_file`).
        thumbnails: ``(N, D)`` unit thumbnails of the candidates (:func:`_thumbnail`).
        external: ``(M, D)`` unit thumbnails of images that must never be kept (Lai's
            validation photos, the real blurred photos).
    """
    decisions = [Decision(c, m) for c, m in zip(candidates, measures, strict=True)]
    keys = [c.key for c in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("two candidates share a key; name them apart")
    similar = thumbnails @ thumbnails.T if len(candidates) else np.zeros((0, 0))
    outside = thumbnails @ external.T if external.size else np.zeros((len(candidates), 0))
    kept_so_far: list[int] = []
    for index, d in enumerate(decisions):
        key = d.candidate.key
        forced = key in FORCED_TEST
        if outside.shape[1] and outside[index].max() >= DUPLICATE_CORRELATION:
            d.reason = "matches a Lai validation photo or a real blurred photo"
        elif key in SAME_SCENE:
            d.reason = f"same scene as {SAME_SCENE[key]} (one view kept)"
        elif key in EXCLUDE and not forced:
            d.reason = f"excluded: {EXCLUDE[key]}"
        elif not forced and (auto := automatic_reason(d.measures)) is not None:
            d.reason = auto
        else:
            twins = [j for j in kept_so_far if similar[index, j] >= DUPLICATE_CORRELATION]
            if twins:
                d.reason = f"near-duplicate of {decisions[twins[0]].candidate.key}"
            else:
                d.split = split_of(key)
                kept_so_far.append(index)
    return decisions


def _copy(src: Path, dst: Path) -> None:
    if dst.is_file() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    temporary = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, temporary)
    os.replace(temporary, dst)


def _csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def write_layout(out: Path, decisions: Sequence[Decision]) -> dict[str, dict[str, int]]:
    """Copy the kept photos, remove stale ones, write SOURCES.csv and DROPPED.csv; the counts."""
    kept = [d for d in decisions if d.split is not None]
    wanted = {(d.split, d.candidate.file_name) for d in kept}
    for split in SPLITS:
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file() and (split, old.name) not in wanted:
                old.unlink()  # a photo the selection no longer keeps, or in another split now
    for d in kept:
        assert d.split is not None
        _copy(d.candidate.path, out / d.split / d.candidate.file_name)
    columns = ["file", "split", "source", "licence", "width", "height", "bytes", "sharpness",
               "texture", "soft", "origin"]  # fmt: skip
    rows = [
        {
            "file": d.candidate.file_name,
            "split": d.split,
            "source": d.candidate.source,
            "licence": d.candidate.licence,
            "width": int(d.measures["width"]),
            "height": int(d.measures["height"]),
            "bytes": d.candidate.path.stat().st_size,
            "sharpness": f"{d.measures['sharpness']:.3f}",
            "texture": f"{d.measures['texture']:.3f}",
            "soft": f"{d.measures['soft']:.3f}",
            "origin": d.candidate.origin,
        }
        for d in sorted(kept, key=lambda d: (SPLITS.index(str(d.split)), d.candidate.file_name))
    ]
    _write_text(out / "SOURCES.csv", _csv_text(rows, columns))
    dropped = [
        {
            "key": d.candidate.key,
            "source": d.candidate.source,
            "reason": d.reason,
            "sharpness": f"{d.measures['sharpness']:.3f}",
            "texture": f"{d.measures['texture']:.3f}",
            "soft": f"{d.measures['soft']:.3f}",
            "origin": d.candidate.origin,
        }
        for d in decisions
        if d.split is None
    ]
    _write_text(
        out / "DROPPED.csv",
        _csv_text(dropped, ["key", "source", "reason", "sharpness", "texture", "soft", "origin"]),
    )
    counts: dict[str, dict[str, int]] = {}
    for d in decisions:
        row = counts.setdefault(d.candidate.source, {s: 0 for s in (*SPLITS, "dropped")})
        row[d.split or "dropped"] += 1
    return counts


def contact_sheets(decisions: Sequence[Decision], folder: Path, *, per_sheet: int = 48) -> None:
    """PNG sheets of the kept and the dropped photos of each source, labelled, for review."""
    from PIL import ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    width, height, cols = 200, 140, 8
    groups: dict[str, list[Decision]] = {}
    for d in decisions:
        groups.setdefault(f"{d.candidate.source}_{'kept' if d.split else 'dropped'}", []).append(d)
    for name, members in sorted(groups.items()):
        for start in range(0, len(members), per_sheet):
            chunk = members[start : start + per_sheet]
            rows = -(-len(chunk) // cols)
            sheet = Image.new("RGB", (cols * width, rows * (height + 24)), "white")
            draw = ImageDraw.Draw(sheet)
            for i, d in enumerate(chunk):
                with Image.open(d.candidate.path) as image:
                    image.draft("RGB", (width * 2, height * 2))
                    thumb = image.convert("RGB")
                thumb.thumbnail((width - 4, height - 4))
                x, y = (i % cols) * width, (i // cols) * (height + 24)
                sheet.paste(thumb, (x + 2, y + 2))
                m = d.measures
                draw.text((x + 2, y + height), d.candidate.stem[:30], fill="black")
                label = (d.split or str(d.reason))[:32]
                shown = f"{label} s{m['sharpness']:.2f} t{m['texture']:.2f}"
                draw.text((x + 2, y + height + 11), shown, fill="black")
            sheet.save(folder / f"{name}_{start // per_sheet:02d}.png")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to lay out {train,val,test}/ in")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="redo even when up to date")
    parser.add_argument("--contact-sheets", type=Path, metavar="DIR", help="also write sheets")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not args.force and args.contact_sheets is None and is_complete(out):
        print(f"{out}: up to date ({_fingerprint()})")
        return 0
    if not (args.shared / "photos").is_dir():
        print(f"error: {args.shared}/photos: no such folder (--shared)", file=sys.stderr)
        return 1
    if not WALLPAPERS.is_dir() or not BACKGROUNDS.is_dir():
        print("error: the Debian wallpapers are missing; run `make wallpapers`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="deblurgan-debian-") as temporary:
        try:
            debian = _download_debian(DEBIAN_DOWNLOADS, Path(temporary))
        except (RuntimeError, OSError, subprocess.CalledProcessError, StopIteration) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        candidates = list_candidates(args.shared, debian, _skimage_data())
        measures = _measure_all(candidates, out / ".measures.json", args.jobs)
        thumbnails = np.stack([_thumbnail(c.path) for c in candidates])
        forbidden = [
            p
            for folder in ("lai_uniform_val/sharp", "lai_uniform_val/blur", "real_blur")
            for p in _images(args.shared / folder, recursive=True)
        ]
        external = np.stack([_thumbnail(p) for p in forbidden]) if forbidden else np.zeros((0, 1))
        decisions = decide(candidates, measures, thumbnails, external)
        leaked = [
            d.candidate.key
            for d in decisions
            if d.split == "train" and d.candidate.path in forbidden
        ]
        if leaked:  # cannot happen by construction; a guard for future sources
            print(f"error: validation photos in train: {leaked}", file=sys.stderr)
            return 1
        counts = write_layout(out, decisions)
        if args.contact_sheets is not None:
            contact_sheets(decisions, args.contact_sheets)
    _write_text(out / ".complete", _fingerprint() + "\n")
    total = {s: sum(c[s] for c in counts.values()) for s in (*SPLITS, "dropped")}
    print(f"{'source':<10} {'train':>6} {'val':>5} {'test':>5} {'dropped':>8}")
    for source, c in [*counts.items(), ("total", total)]:
        print(f"{source:<10} {c['train']:>6} {c['val']:>5} {c['test']:>5} {c['dropped']:>8}")
    print(f"{out}: SOURCES.csv, DROPPED.csv written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
