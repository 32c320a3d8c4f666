"""Inference: run a generator on images of any size (padding, tiling, precision) and on files.

:mod:`deblurgan.inference.evaluation` scores methods on datasets under one declared protocol
(``deblur eval``).
"""

from deblurgan.inference.deblurrer import Deblurrer, pad_to_multiple
from deblurgan.inference.evaluation import (
    BASELINE_METHODS,
    CLASSICAL_METHODS,
    EvalDataset,
    EvalItem,
    EvaluationResult,
    ImageResult,
    Method,
    MethodSummary,
    align_by_shift,
    classical_method,
    evaluate,
    generator_method,
    identity_method,
    load_eval_dataset,
)
from deblurgan.inference.files import deblur_file, output_suffix

__all__ = [
    "BASELINE_METHODS",
    "CLASSICAL_METHODS",
    "Deblurrer",
    "EvalDataset",
    "EvalItem",
    "EvaluationResult",
    "ImageResult",
    "Method",
    "MethodSummary",
    "align_by_shift",
    "classical_method",
    "deblur_file",
    "evaluate",
    "generator_method",
    "identity_method",
    "load_eval_dataset",
    "output_suffix",
    "pad_to_multiple",
]
