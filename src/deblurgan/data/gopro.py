"""The GoPro deblurring dataset (Nah et al., 2017): ``ROOT/{train,test}/<scene>/{blur,sharp}/``.

Each scene folder of GOPRO_Large holds ``blur`` (the 240 fps frames averaged on their stored,
gamma-encoded values: a linear camera response assumed; the version papers report),
``blur_gamma`` (averaged in linear light, after undoing a gamma of 2.2: closer to how a real
exposure adds up light) and ``sharp`` (the middle frame), with the same file names. The
dataset's author says so in SeungjunNah/DeepDeblur_release issue 60; ``blur/gopro.py`` and
``deblur blur --kind frames`` follow the same convention. ``deblur eval`` reads ``blur`` unless
``--blur blur_gamma``, so its figures compare with the published ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from deblurgan.data.paired import PairedFolderDataset
from deblurgan.data.registries import DATASETS
from deblurgan.io import IMAGE_EXTENSIONS

__all__ = ["GOPRO_BLUR_DIRS", "GoProDataset", "gopro_split_root"]

#: The blurry folders of a GoPro scene.
GOPRO_BLUR_DIRS = ("blur", "blur_gamma")

_LAYOUT = "ROOT/{train,test}/<scene>/{blur,blur_gamma,sharp}/*.png"


def gopro_split_root(root: str | Path, split: str) -> Path:
    """``ROOT/split``, checked: it must be a folder of scene folders.

    Example:
        >>> gopro_split_root("/nonexistent", "train")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: /nonexistent/train: no such folder (GoPro layout: ROOT/{train,test}/<scene>/...)
    """
    if not isinstance(split, str) or not split or "/" in split or split in (".", ".."):
        raise ValueError(f"split must be a folder name such as 'train' or 'test', got {split!r}")
    folder = Path(root) / split
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder (GoPro layout: {_LAYOUT})")
    return folder


@DATASETS.register("gopro")
class GoProDataset(PairedFolderDataset):
    """GoPro pairs of one split: every ``<scene>/blur/NAME`` with ``<scene>/sharp/NAME``.

    Built on :class:`~deblurgan.data.paired.PairedFolderDataset` (same validation at start-up:
    one ``ValueError`` lists every missing partner, size mismatch, unreadable or too small
    file). Item names are ``<scene>/<frame>``, e.g. ``GOPR0384_11_00/000001``.

    Args:
        root: the dataset folder (``GOPRO_Large``), holding ``train`` and ``test``.
        split: the sub-folder to read, ``"train"`` or ``"test"``.
        blur: ``"blur"`` (averages of the gamma-encoded values, the published benchmark) or
            ``"blur_gamma"`` (linear-light averages).
        crop_size: if given, a random aligned square crop of this side; else whole frames.
        flip: random flips of both images.
        rot90: random quarter turns of both images.
        jitter: colour jitter ``{"brightness": x, "contrast": x, "saturation": x}``, identical for
            both images.
        seed: base seed; item ``i``'s augmentation depends on ``(seed, i)`` only.
        extensions: image file extensions to pair.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for side in ("blur", "blur_gamma", "sharp"):
        ...     (root / "test" / "GOPR0001_00" / side).mkdir(parents=True)
        ...     Image.new("RGB", (12, 10)).save(root / "test" / "GOPR0001_00" / side / "000001.png")
        >>> data = GoProDataset(root, split="test", blur="blur_gamma")
        >>> len(data), data[0]["name"], tuple(data[0]["blurry"].shape)
        (1, 'GOPR0001_00/000001', (3, 10, 12))
    """

    def __init__(
        self,
        root: str | Path,
        *,
        split: str = "train",
        blur: str = "blur",
        crop_size: int | None = None,
        flip: bool = False,
        rot90: bool = False,
        jitter: Mapping[str, float] | None = None,
        seed: int = 0,
        extensions: Sequence[str] = tuple(IMAGE_EXTENSIONS),
    ) -> None:
        if blur not in GOPRO_BLUR_DIRS:
            raise ValueError(f"blur must be one of {GOPRO_BLUR_DIRS}, got {blur!r}")
        self.split = split
        self.blur = blur
        super().__init__(
            gopro_split_root(root, split),
            blur_dir=blur,
            sharp_dir="sharp",
            crop_size=crop_size,
            flip=flip,
            rot90=rot90,
            jitter=jitter,
            seed=seed,
            extensions=extensions,
        )
        self.dataset_root = Path(root)
