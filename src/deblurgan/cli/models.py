"""``deblur models``: the registered generators and the shipped weights, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["describe_models", "models_main"]


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


def describe_models() -> dict[str, list[dict[str, Any]]]:
    """Facts about every registered generator (at default settings) and every shipped weight.

    Returns:
        ``{"generators": [{name, parameters, size_multiple, shipped_weights}],
        "weights": [{name, file, available, description, generator, arch_kwargs, parameters,
        error}]}``; ``shipped_weights`` lists the available shipped weights of that generator.

    Example:
        >>> info = describe_models()
        >>> "fpn_mobilenet" in [g["name"] for g in info["generators"]]
        True
    """
    from deblurgan.models import GENERATORS, SHIPPED_WEIGHTS

    weights = [_shipped_record(name) for name in SHIPPED_WEIGHTS]
    generators = []
    for name in GENERATORS:
        model = GENERATORS.build(name)
        generators.append(
            {
                "name": name,
                "parameters": _count_parameters(model),
                "size_multiple": int(getattr(model, "size_multiple", 1)),
                "shipped_weights": [
                    w["name"] for w in weights if w["available"] and w["generator"] == name
                ],
            }
        )
    return {"generators": generators, "weights": weights}


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
        description="List the generator architectures (parameters at default settings) and the "
        "weights shipped in the package.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    info = describe_models()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    rows = [["generator", "parameters", "size multiple", "shipped weights"]]
    for g in info["generators"]:
        shipped = ", ".join(g["shipped_weights"]) or "-"
        rows.append([g["name"], _millions(g["parameters"]), str(g["size_multiple"]), shipped])
    print(_table(rows))
    print()
    rows = [["weights", "generator", "parameters", "status", "description"]]
    for w in info["weights"]:
        status = "shipped" if w["available"] else "missing"
        rows.append(
            [w["name"], w["generator"] or "-", _millions(w["parameters"]), status, w["description"]]
        )
    print(_table(rows))
    for w in info["weights"]:
        if w["error"]:
            print(f"{w['name']}: {w['error']}", file=sys.stderr)
    return 0
