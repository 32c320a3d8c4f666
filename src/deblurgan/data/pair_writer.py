"""Writing blurry/sharp pairs in GoPro layout: the library behind ``deblur blur``.

``OUT/<scene>/blur/NNNNNN.png`` and ``sharp/NNNNNN.png``, with ``kernel/NNNNNN.png`` and
``.json`` for kernel blur and ``params/NNNNNN.json`` for the other kinds, every file created
exclusively unless told to replace (:class:`PairWriter`). Four pipelines, one per kind of blur:
:func:`write_realistic_pairs` (the one realistic degradation), :func:`write_kernel_pairs`
(camera-shake, linear, defocus or Gaussian kernels), :func:`write_gopro_pairs` (GoPro-style
synthesis) and :func:`write_frame_pairs` (averaged video frames). Item ``i`` depends only on
``(seed, i)``; a bad input is reported in ``failures`` and the batch goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deblurgan.io.errors import describe_failure

__all__ = [
    "PairWriter",
    "WriteSettings",
    "write_frame_pairs",
    "write_gopro_pairs",
    "write_kernel_pairs",
    "write_realistic_pairs",
]


@dataclass(frozen=True)
class WriteSettings:
    """What the pipelines need besides their blur: seed, progress and per-kind options.

    Args:
        seed: item ``i`` is drawn from ``(seed, i)``.
        kind: the name recorded in each item's JSON.
        quiet: no progress bar.
        valid: kernel kinds: cut the border the kernel cannot reach (its half size).
        crop_size: realistic: the side of the centre crop (None: whole photos).
        stride: frames: frames between the starts of consecutive windows.
        gamma: frames: how frames are averaged (recorded as given).
        limit: frames: at most this many pairs.
    """

    seed: int = 0
    kind: str = ""
    quiet: bool = False
    valid: bool = False
    crop_size: int | None = None
    stride: int = 1
    gamma: Any = "srgb"
    limit: int | None = None


def _jsonable(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _first(params: dict[str, Any]) -> dict[str, Any]:
    """Item 0 of each batched parameter, as plain JSON values."""
    return {key: _jsonable(value[0]) for key, value in params.items()}


def _write_json(path: Path, record: dict[str, Any], *, replace: bool) -> None:
    """Write JSON atomically (exclusively unless ``replace``)."""
    from deblurgan.io import ImageError, atomic_write_text

    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    try:
        atomic_write_text(path, text, replace=replace)
    except FileExistsError as exc:
        raise ImageError(
            path, "output exists (another run may have written it meanwhile); not replaced"
        ) from exc


@dataclass
class PairWriter:
    """Writes numbered pairs under ``scene`` and counts them; ``replace=False`` creates every
    file exclusively, so a concurrent run into the same scene cannot replace this one's files."""

    scene: Path
    bit_depth: int
    replace: bool = False
    written: int = 0

    def pair(self, index: int, blurry: Any, sharp: Any) -> None:
        from deblurgan.io import write_image

        name = f"{index:06d}.png"
        for folder, image in (("sharp", sharp), ("blur", blurry)):
            path = self.scene / folder / name
            write_image(path, image, bit_depth=self.bit_depth, replace=self.replace)
        self.written += 1

    def kernel(self, index: int, kernel: Any, record: dict[str, Any]) -> None:
        from deblurgan.io import write_kernel

        path = self.scene / "kernel" / f"{index:06d}.png"
        write_kernel(path, kernel, replace=self.replace)
        _write_json(path.with_suffix(".json"), record, replace=self.replace)

    def params(self, index: int, record: dict[str, Any]) -> None:
        _write_json(self.scene / "params" / f"{index:06d}.json", record, replace=self.replace)


def _progress(total: int | None, quiet: bool, unit: str) -> Any:
    from tqdm import tqdm

    show = not quiet and sys.stderr.isatty()
    return tqdm(total=total, file=sys.stderr, disable=not show, unit=unit, desc="deblur blur")


def write_kernel_pairs(
    settings: WriteSettings,
    files: list[Path],
    sampler: Any,
    camera: Any,
    writer: PairWriter,
    failures: list[str],
) -> None:
    import torch

    from deblurgan.data.transforms import item_generator
    from deblurgan.io import read_image

    margin = sampler.kernel_size // 2 if settings.valid else 0
    with _progress(len(files), settings.quiet, "pair") as bar:
        for index, path in enumerate(files):
            bar.set_postfix_str(path.name, refresh=False)
            try:
                sharp = read_image(path).rgb
                height, width = sharp.shape[-2:]
                if min(height, width) <= 2 * margin:
                    raise ValueError(f"{width}x{height} is too small for --valid with this kernel")
                generator = item_generator(settings.seed, index)
                sample = sampler.sample(1, generator=generator)
                blurry, drawn = camera(sharp, sample.kernels[0], generator=generator)
                if margin:
                    inner = (slice(None), slice(margin, -margin), slice(margin, -margin))
                    blurry, sharp = blurry[inner], sharp[inner]
                number = writer.written
                writer.pair(number, blurry, sharp)
                record = {
                    "source": str(path),
                    "kind": settings.kind,
                    "seed": settings.seed,
                    "input_index": index,
                    "kernel_size": sampler.kernel_size,
                    "kernel_png": "scaled to max 1; divide by its sum to recover the kernel",
                    "kernel": _first(sample.params),
                    "camera": {"settings": _jsonable(camera.as_dict()), "drawn": _first(drawn)},
                    "valid": bool(settings.valid),
                }
                writer.kernel(number, sample.kernels[0].to(torch.float32), record)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a bad file must not stop the batch
                failures.append(describe_failure(path, exc))
            bar.update()


def write_realistic_pairs(
    settings: WriteSettings,
    files: list[Path],
    degradation: Any,
    writer: PairWriter,
    failures: list[str],
) -> None:
    """Photo ``i`` through :func:`~deblurgan.data.synthetic.degrade_photo`, as item ``i`` of
    ``SyntheticBlurDataset`` at scale 1 without flips (``deblur eval --format synthetic``)."""
    from deblurgan.data.synthetic import degrade_photo, to_uint8
    from deblurgan.data.transforms import item_generator
    from deblurgan.io import read_image

    with _progress(len(files), settings.quiet, "pair") as bar:
        for index, path in enumerate(files):
            bar.set_postfix_str(path.name, refresh=False)
            try:
                photo = to_uint8(read_image(path, max_pixels=None).rgb)
                pair = degrade_photo(
                    photo,
                    degradation,
                    generator=item_generator(settings.seed, index),
                    crop_size=settings.crop_size,
                )
                number = writer.written
                writer.pair(number, pair.blurry, pair.sharp)
                record = {
                    "source": str(path),
                    "kind": "realistic",
                    "seed": settings.seed,
                    "input_index": index,
                    "crop_size": settings.crop_size,
                    "settings": degradation.as_dict(),
                    "params": _jsonable(pair.params),
                }
                writer.params(number, record)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a bad file must not stop the batch
                failures.append(describe_failure(path, exc))
            bar.update()


def write_gopro_pairs(
    settings: WriteSettings,
    files: list[Path],
    synthesizer: Any,
    camera: Any,
    writer: PairWriter,
    failures: list[str],
) -> None:
    from deblurgan.data.transforms import item_generator
    from deblurgan.io import read_image

    with _progress(len(files), settings.quiet, "pair") as bar:
        for index, path in enumerate(files):
            bar.set_postfix_str(path.name, refresh=False)
            try:
                photo = read_image(path).rgb
                generator = item_generator(settings.seed, index)
                sample = synthesizer(photo, generator=generator)
                blurry, drawn = camera(sample.blurry, None, generator=generator)
                number = writer.written
                writer.pair(number, blurry, sample.sharp)
                record = {
                    "source": str(path),
                    "kind": "gopro",
                    "seed": settings.seed,
                    "input_index": index,
                    "path": _first(sample.params),
                    "camera": {"settings": _jsonable(camera.as_dict()), "drawn": _first(drawn)},
                }
                writer.params(number, record)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                failures.append(describe_failure(path, exc))
            bar.update()


def _frame_files(
    files: list[Path], first: int, failures: list[str], stop: list[int]
) -> Iterator[Any]:
    """Read ``files[first:]`` in order; at a bad one, report it and end (a cut in the sequence)."""
    from deblurgan.io import ImageError, read_image

    for position in range(first, len(files)):
        try:
            yield read_image(files[position]).rgb
        except (ImageError, OSError) as exc:
            failures.append(describe_failure(files[position], exc))
            stop.append(position)
            return


def write_frame_pairs(
    settings: WriteSettings,
    source: Path,
    files: list[Path] | None,
    num_frames: Any,
    camera: Any,
    writer: PairWriter,
    failures: list[str],
) -> None:
    from deblurgan.blur import frame_pairs, read_video_frames
    from deblurgan.data.transforms import item_generator

    windows = {
        "num_frames": num_frames,
        "stride": settings.stride,
        "gamma": settings.gamma,
        "generator": item_generator(settings.seed, 0),
    }
    noise_generator = item_generator(settings.seed, 1)
    limit = settings.limit
    index = 0
    first = 0  # first frame of the current run of readable frames
    with _progress(None, settings.quiet, "pair") as bar:
        while limit is None or index < limit:
            stop: list[int] = []
            if files is None:
                stream: Iterator[Any] = read_video_frames(source)
            else:
                if first >= len(files):
                    break
                stream = _frame_files(files, first, failures, stop)
            try:
                for pair in frame_pairs(stream, **windows):
                    blurry, drawn = camera(pair.blurry, None, generator=noise_generator)
                    writer.pair(index, blurry, pair.sharp)
                    start = first + pair.start
                    record: dict[str, Any] = {
                        "source": str(source),
                        "kind": "frames",
                        "seed": settings.seed,
                        "index": index,
                        "start": start,
                        "num_frames": pair.num_frames,
                        "middle": start + pair.num_frames // 2,
                        "gamma": settings.gamma,
                        "camera": {"settings": _jsonable(camera.as_dict()), "drawn": _first(drawn)},
                    }
                    if files is not None:
                        record["frames"] = [str(p) for p in files[start : start + pair.num_frames]]
                    writer.params(index, record)
                    index += 1
                    bar.update()
                    if limit is not None and index >= limit:
                        break
            except (ValueError, OSError) as exc:  # an unreadable video or frame
                failures.append(describe_failure(source, exc))
                break
            if files is None or not stop:
                break
            first = stop[0] + 1
    if index == 0 and not failures:
        window = " ".join(map(str, num_frames)) if isinstance(num_frames, tuple) else num_frames
        failures.append(f"{source}: no pair made: fewer frames than one window (--frames {window})")
