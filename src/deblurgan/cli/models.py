"""``deblur models``: the registered generators, the shipped weights and the public weights that
``deblur weights fetch`` converts (source, licence, size, whether fetched), as tables or JSON."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from deblurgan.cli.arguments import image_size
from deblurgan.models.generator import size_multiple

__all__ = ["PAPERS", "PUBLIC_WEIGHTS", "PUBLISHED_PARAMETERS", "describe_models", "models_main"]

logger = logging.getLogger(__name__)


def _count_parameters(module: Any) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _shipped_record(name: str) -> dict[str, Any]:
    from deblurgan.models.weights import SHIPPED_WEIGHTS, read_checkpoint, shipped_weights_path

    entry = SHIPPED_WEIGHTS[name]
    path = shipped_weights_path(name)
    record: dict[str, Any] = {
        "name": name,
        "file": entry.file,
        "available": path.is_file(),
        "description": entry.description,
        "generator": None,
        "arch_kwargs": None,
        "parameters": None,
        "error": None,
    }
    if not record["available"]:
        return record
    try:
        from deblurgan.models import build_generator

        spec, _, _ = read_checkpoint(path)
        record["generator"] = spec["name"]
        record["arch_kwargs"] = {k: v for k, v in spec.items() if k != "name"}
        record["parameters"] = _count_parameters(build_generator(spec))
    except (ValueError, TypeError, OSError) as exc:
        record["available"] = False
        record["error"] = str(exc)
    return record


# Parameter counts the papers publish where ours differ. The FPN generators here drop the
# backbone blocks that their forward pass never runs (DeblurGAN-v2's code builds them and counts
# them), so the live counts are lower: a user comparing with the paper should see both.
PUBLISHED_PARAMETERS: dict[str, int] = {
    "fpn_mobilenet": 3_310_000,  # DeblurGAN-v2, Table 3: 3.31 M
    "fpn_inception": 60_900_000,  # DeblurGAN-v2, Table 3: 60.9 M
}


# Papers of the registered generators; a generator class may state its own as ``paper``.
PAPERS: dict[str, str] = {
    "resnet": "Kupyn et al. 2018 (DeblurGAN)",
    "fpn_mobilenet": "Kupyn et al. 2019 (DeblurGAN-v2)",
    "fpn_mobilenet_dsc": "Kupyn et al. 2019 (DeblurGAN-v2)",
    "fpn_inception": "Kupyn et al. 2019 (DeblurGAN-v2)",
    "fpn_efficientnet_lite": "Kupyn et al. 2019 (DeblurGAN-v2 FPN); Tan and Le 2019 (backbone)",
    "mimo_unet": "Cho et al. 2021 (MIMO-UNet)",
    "mimo_unet_plus": "Cho et al. 2021 (MIMO-UNet+)",
    "mimo_unet_pure": "Cho et al. 2021 (MIMO-UNet, no FAM/SCM)",
    "deepdeblur": "Nah et al. 2017 (DeepDeblur)",
    "srgan": "Ledig et al. 2017 (SRGAN)",
    "lite_unet": "deblurgan (pixel-unshuffle U-Net)",
    "maxim_3s": "Tu et al. 2022 (MAXIM-3S)",
}

# Public checkpoints of the original authors that deblurgan.models.convert maps onto ours:
# generator -> (converter function, what the file is). Listed only if the converter exists.
PUBLIC_WEIGHTS: dict[str, tuple[str, str]] = {
    "resnet": ("convert_deblurgan_resnet", "DeblurGAN generator .pth"),
    "fpn_mobilenet": ("convert_deblurganv2_fpn_mobilenet", "DeblurGAN-v2 fpn_mobilenet.h5"),
    "fpn_inception": ("convert_deblurganv2_fpn_inception", "DeblurGAN-v2 fpn_inception.h5"),
    "mimo_unet": ("convert_mimo_unet", "MIMO-UNet.pkl"),
    "mimo_unet_plus": ("convert_mimo_unet", "MIMO-UNetPlus.pkl"),
}

DEFAULT_SIZE = (1280, 720)


def _paper(name: str, constructor: Any) -> str | None:
    paper = getattr(constructor, "paper", None)
    return paper if isinstance(paper, str) else PAPERS.get(name)


def _public_weights(name: str) -> str | None:
    from deblurgan.models import FETCHABLE_WEIGHTS, convert

    fetchable = [key for key, e in FETCHABLE_WEIGHTS.items() if e.generator == name]
    if fetchable:
        return f"{fetchable[0]} (deblur weights fetch {fetchable[0]})"
    entry = PUBLIC_WEIGHTS.get(name)
    return entry[1] if entry is not None and hasattr(convert, entry[0]) else None


def describe_models(size: tuple[int, int] = DEFAULT_SIZE) -> dict[str, Any]:
    """Facts about every registered generator (at default settings) and every shipped weight.

    Generators are built on the ``meta`` device, so nothing is allocated and the multiply-
    accumulates of a ``size`` image (padded to the generator's ``size_multiple``) are counted
    in milliseconds (see :func:`deblurgan.models.complexity.generator_macs`).

    Args:
        size: ``(width, height)`` of the image the MACs are counted on.

    Returns:
        ``{"size": [width, height], "generators": [{name, paper, parameters,
        published_parameters, macs, gmacs,
        size_multiple, shipped_weights, public_weights, weights_known}], "weights": [{name,
        file, available, description, generator, arch_kwargs, parameters, error}],
        "fetchable": [{name, description, source, package_sha256, package_size, licence,
        converter, generator, fetched, files}]}``.
        ``shipped_weights`` lists the available shipped weights of that generator;
        ``public_weights`` names the fetchable weights or the authors' checkpoint that converts
        onto it (or None); ``weights_known`` is whether either exists; ``fetchable`` is
        :func:`deblurgan.models.fetch.describe_fetchable` (``fetched``: in the cache now);
        ``macs`` and ``gmacs`` are None (and a warning is logged) for a generator that cannot be
        counted.

    Example:
        >>> info = describe_models(size=(64, 64))
        >>> row = next(g for g in info["generators"] if g["name"] == "fpn_mobilenet")
        >>> row["paper"], row["size_multiple"], row["public_weights"] is not None
        ('Kupyn et al. 2019 (DeblurGAN-v2)', 32, True)
    """
    import torch

    from deblurgan.models import GENERATORS, SHIPPED_WEIGHTS
    from deblurgan.models.complexity import generator_macs

    width, height = size
    weights = [_shipped_record(name) for name in SHIPPED_WEIGHTS]
    generators = []
    for name in GENERATORS:
        with torch.device("meta"):
            model = GENERATORS.build(name)
        try:
            macs: int | None = generator_macs(name, height=height, width=width)
        except (RuntimeError, NotImplementedError, ValueError, MemoryError) as exc:
            logger.warning("cannot count the MACs of %s: %s", name, exc)
            macs = None
        shipped = [w["name"] for w in weights if w["available"] and w["generator"] == name]
        public = _public_weights(name)
        generators.append(
            {
                "name": name,
                "paper": _paper(name, GENERATORS.get(name)),
                "parameters": _count_parameters(model),
                "published_parameters": PUBLISHED_PARAMETERS.get(name),
                "macs": macs,
                "gmacs": None if macs is None else round(macs / 1e9, 3),
                "size_multiple": size_multiple(model),
                "shipped_weights": shipped,
                "public_weights": public,
                "weights_known": bool(shipped) or public is not None,
            }
        )
    from deblurgan.models.fetch import describe_fetchable

    return {
        "size": [width, height],
        "generators": generators,
        "weights": weights,
        "fetchable": describe_fetchable(),
    }


def _millions(count: int | None) -> str:
    return "-" if count is None else f"{count / 1e6:.2f} M"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def models_main(argv: list[str]) -> int:
    """List generators and shipped weights; ``--json`` prints them as one JSON object."""
    parser = argparse.ArgumentParser(
        prog="deblur models",
        description="List the generator architectures (paper; parameters and multiply-"
        "accumulates at default settings; the size multiple inputs are padded to; whether "
        "shipped or public weights are known), the weights shipped in the package, and the "
        "public weights 'deblur weights fetch' converts (source, size, licence, fetched).",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--size",
        type=image_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="image size the GMACs are counted at, padded to the size multiple (default: 1280x720)",
    )
    args = parser.parse_args(argv)
    info = describe_models(size=args.size)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width, height = args.size
    rows = [
        [
            "generator",
            "paper",
            "parameters",
            "published",
            f"GMACs@{width}x{height}",
            "size multiple",
            "weights known",
        ]
    ]
    for g in info["generators"]:
        known = [*g["shipped_weights"], *([g["public_weights"]] if g["public_weights"] else [])]
        rows.append(
            [
                g["name"],
                g["paper"] or "-",
                _millions(g["parameters"]),
                "-" if g["published_parameters"] is None else _millions(g["published_parameters"]),
                "-" if g["gmacs"] is None else f"{g['gmacs']:.1f}",
                str(g["size_multiple"]),
                ", ".join(known) or "-",
            ]
        )
    print(_table(rows))
    print(
        "published: the paper's count where it differs (the FPN generators here leave out the "
        "backbone blocks their forward never runs)"
    )
    print()
    rows = [["weights", "generator", "parameters", "status", "description"]]
    for w in info["weights"]:
        status = "shipped" if w["available"] else "missing"
        rows.append(
            [w["name"], w["generator"] or "-", _millions(w["parameters"]), status, w["description"]]
        )
    print(_table(rows))
    print()
    rows = [["fetchable weights", "generator", "status", "source", "size", "licence"]]
    for f in info["fetchable"]:
        rows.append(
            [
                f["name"],
                f["generator"] or "-",
                "fetched" if f["fetched"] else "not fetched",
                f["source"],
                f"{f['package_size'] / 1e6:.1f} MB",
                f["licence"],
            ]
        )
    print(_table(rows))
    print("fetch with 'deblur weights fetch NAME'; 'deblur weights list' says where they are")
    for w in info["weights"]:
        if w["error"]:
            print(f"{w['name']}: {w['error']}", file=sys.stderr)
    return 0
