"""Evaluation protocol of deblurring methods on paired data (Nah et al., 2017; Köhler et al., 2012).

One declared protocol scores several methods on the same images, at full size, and records what
each costs:

- **Methods**: a generator (shipped weights name, checkpoint file or module), ``identity`` (the
  blurry input itself: the floor every method must beat) and the classical non-blind
  deconvolutions ``wiener``, ``tikhonov`` and ``richardson_lucy`` given the true kernel of each
  item (a ceiling for what a known blur allows; see :mod:`deblurgan.blur.deconv`).
- **Data**: any on-disk layout of :data:`deblurgan.data.DATASETS` (:func:`load_eval_dataset`),
  read without crops, flips or noise. Sharp photos (``format="synthetic"``) are degraded by the
  one realistic pipeline of training and ``deblur blur``
  (:class:`~deblurgan.blur.RealisticDegradation`, its defaults unless told): item ``i`` is photo
  ``i % n`` at scale 1 (no rescaling, no flips), a crop (default 256 px) seeded by
  ``(seed, i)``, every crop taken as part of a 1280 px wide frame; the result splits the scores
  by blur size too (:attr:`EvaluationResult.by_blur_size`: :func:`group_scores` with
  :func:`blur_size_groups`, in :data:`BLUR_SIZE_BINS`), by kind of motion
  (:attr:`~EvaluationResult.by_motion`) and by averaging domain
  (:attr:`~EvaluationResult.by_averaging`), and the per-image CSV carries each item's
  degradation parameters (:data:`DEGRADATION_COLUMNS`). The known-kernel protocol
  (``kernels=True`` or a ``sampler``) blurs the crops by uniform kernels instead, without
  noise, for the classical methods. Kernels come from that synthetic dataset
  (``return_kernel=True``) or from ``<pair folder>/kernel/<stem>.png`` next to ``blur/`` and
  ``sharp/`` (what ``deblur blur`` writes; ``.npy`` works too), normalised to sum 1.
- **Metrics**: every entry of :data:`deblurgan.metrics.METRICS` that applies: metrics whose
  ``min_size`` an image does not reach are skipped for that image (with a note), and ``lpips``
  runs only with a network. Identical images score ``psnr``'s cap (``max_db``, 100 dB) and
  SSIM 1, so a perfect method and the mean over a data set stay finite.
- **Shift-tolerant scoring** (Levin et al., 2009; Köhler et al., 2012; Lai et al., 2016):
  ``shift=k`` crops ``k`` pixels off every side of the sharp image, tries every window of the
  restored image displaced by ``(dy, dx)`` with ``|dy|, |dx| <= k`` (integer shifts only, no
  intensity fit), keeps the one of least squared error (best PSNR) and computes every metric on
  that aligned pair. ``restored[y + dy, x + dx]`` is matched with ``sharp[y, x]``.
- **Costs**: parameters; GMACs of one untiled forward pass (:func:`deblurgan.models.complexity.
  generator_macs` or :func:`~deblurgan.models.complexity.count_macs`) at each image's size
  padded to ``size_multiple``, or at a declared size; latency per image (the median over images
  of one timed call each, after ``warmup`` untimed calls; the input is already on the device and
  the clock runs between two ``torch.cuda.synchronize`` calls on GPU); and peak memory per call:
  ``torch.cuda.max_memory_allocated`` on GPU (weights, input and activations: everything torch
  holds), and on CPU the rise of the process's resident set above its level before the call
  (Linux's ``VmHWM`` after a reset through ``/proc/self/clear_refs``; where that reset is
  unavailable, the rise of ``ru_maxrss``, which stays 0 below an earlier peak). A method's peak
  is the largest over its images. Classical methods (FFTs) have no MAC count; identity costs 0.

Items are evaluated one at a time, every method on the same item, so a file that cannot be read
is skipped for all methods alike and the means compare the same images. The results are
dataclasses with CSV (one row per image and method) and JSON (one summary per method, plus the
protocol) writers; ``deblur eval`` is the command line around :func:`evaluate`.

One module per job: :mod:`~deblurgan.inference.evaluation.datasets` (opening datasets, kernels),
:mod:`~deblurgan.inference.evaluation.methods` (generator, identity, classical deconvolution),
:mod:`~deblurgan.inference.evaluation.scoring` (which metrics apply, the LPIPS network),
:mod:`~deblurgan.inference.evaluation.alignment` (shift-tolerant scoring),
:mod:`~deblurgan.inference.evaluation.resources` (latency and peak memory),
:mod:`~deblurgan.inference.evaluation.results` (rows, summaries, CSV, JSON, the table),
:mod:`~deblurgan.inference.evaluation.groups` (scores by blur size) and
:mod:`~deblurgan.inference.evaluation.loop` (:func:`evaluate`).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> import torch
    >>> from deblurgan.io import write_image
    >>> root = Path(tempfile.mkdtemp())
    >>> sharp = torch.rand(3, 24, 32, generator=torch.Generator().manual_seed(0))
    >>> _ = write_image(root / "sharp" / "a.png", sharp)
    >>> _ = write_image(root / "blur" / "a.png", sharp.flip(-1))
    >>> data = load_eval_dataset(root)
    >>> result = evaluate([identity_method()], data, metrics=["psnr", "ssim"])
    >>> sorted(result.summaries["identity"].scores), result.summaries["identity"].count
    (['psnr', 'ssim'], 1)
"""

from deblurgan.inference.evaluation.alignment import SHIFT_CONVENTION, align_by_shift
from deblurgan.inference.evaluation.datasets import (
    KERNEL_DIR,
    EvalDataset,
    EvalItem,
    load_eval_dataset,
)
from deblurgan.inference.evaluation.groups import (
    BLUR_SIZE_BINS,
    averaging_groups,
    blur_size_groups,
    format_groups,
    group_scores,
    motion_groups,
    scores_by_averaging,
    scores_by_blur_size,
    scores_by_motion,
)
from deblurgan.inference.evaluation.loop import EvalSettings, evaluate
from deblurgan.inference.evaluation.methods import (
    BASELINE_METHODS,
    CLASSICAL_METHODS,
    Method,
    baseline_method,
    classical_method,
    generator_method,
    identity_method,
)
from deblurgan.inference.evaluation.results import (
    COST_KEYS,
    DEGRADATION_COLUMNS,
    EvaluationResult,
    ImageResult,
    MethodSummary,
    format_table,
)
from deblurgan.inference.evaluation.scoring import load_lpips_network
from deblurgan.io import atomic_write_text  # kept importable from here, as before the split

__all__ = [
    "BASELINE_METHODS",
    "BLUR_SIZE_BINS",
    "CLASSICAL_METHODS",
    "COST_KEYS",
    "DEGRADATION_COLUMNS",
    "KERNEL_DIR",
    "SHIFT_CONVENTION",
    "EvalDataset",
    "EvalItem",
    "EvalSettings",
    "EvaluationResult",
    "ImageResult",
    "Method",
    "MethodSummary",
    "align_by_shift",
    "atomic_write_text",
    "averaging_groups",
    "baseline_method",
    "blur_size_groups",
    "classical_method",
    "evaluate",
    "format_groups",
    "format_table",
    "generator_method",
    "group_scores",
    "identity_method",
    "load_eval_dataset",
    "load_lpips_network",
    "motion_groups",
    "scores_by_averaging",
    "scores_by_blur_size",
    "scores_by_motion",
]
