"""Feature similarity FSIM and FSIMc (Zhang, Zhang, Mou and Zhang, IEEE TIP 2011).

A port of the authors' ``FeatureSIM.m`` ("FSIM Index with automatic downsampling, Version
1.0"), which compares phase congruency (Kovesi's ``phasecong2``, log-Gabor filters) and Scharr
gradient magnitude maps, pooled with the larger phase congruency as the weight. Every constant
below is that file's:

- images on the [0, 255] scale; Y, I, Q from NTSC YIQ (``0.299 R + 0.587 G + 0.114 B``, ...);
- downsampling by ``F = max(1, round(min(rows, cols) / 256))``: ``conv2(X, ones(F)/F^2,
  'same')`` with zero padding, then ``X(1:F:end, 1:F:end)``;
- ``phasecong2``: 4 scales, 4 orientations, minimum wavelength 6, scale factor 2,
  ``sigmaOnf = 0.55``, ``dThetaOnSigma = 1.2``, noise threshold ``k = 2``, ``epsilon = 1e-4``,
  a Butterworth low-pass of cutoff 0.45 and order 15 on every filter, the noise estimate from
  the median response at the finest scale, and the empirical ``T / 1.7`` rescaling;
- gradient: ``conv2(Y, [3 0 -3; 10 0 -10; 3 0 -3] / 16, 'same')`` and its transpose;
- ``T1 = 0.85``, ``T2 = 160``, ``T3 = T4 = 200``, ``lambda = 0.03``, and FSIMc's chroma term
  ``real((S_I S_Q)^lambda)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from deblurgan.metrics._checks import check_pair, check_positive, compute_dtype
from deblurgan.metrics._color import yiq

__all__ = ["fsim", "phase_congruency"]

_SCALES = 4
_ORIENTATIONS = 4
_MIN_WAVELENGTH = 6.0
_MULT = 2.0
_SIGMA_ON_F = 0.55
_D_THETA_ON_SIGMA = 1.2
_K = 2.0
_EPSILON = 1e-4
_LOWPASS_CUTOFF = 0.45
_LOWPASS_ORDER = 15
_PC2_NOISE_RESCALE = 1.7

_T1 = 0.85
_T2 = 160.0
_T3 = 200.0
_T4 = 200.0
_LAMBDA = 0.03

_SCHARR = (3.0 / 16, 10.0 / 16, 3.0 / 16)


def _frequency_axis(n: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Kovesi's normalised frequencies, centred, for a side of ``n`` (his odd/even ranges)."""
    k = torch.arange(n, dtype=dtype, device=device)
    if n % 2:
        return (k - (n - 1) / 2) / (n - 1)
    return (k - n / 2) / n


def _log_gabor_filters(rows: int, cols: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
    """The ``phasecong2`` filters, zero frequency at the corner.

    Shape:
        - output: :math:`(O, S, rows, cols)`, orientations by scales
    """
    fy = _frequency_axis(rows, dtype=dtype, device=device).view(-1, 1)
    fx = _frequency_axis(cols, dtype=dtype, device=device).view(1, -1)
    radius = torch.fft.ifftshift(torch.sqrt(fx * fx + fy * fy))
    theta = torch.fft.ifftshift(torch.atan2(-fy, fx).expand(rows, cols))
    lowpass = 1.0 / (1.0 + (radius / _LOWPASS_CUTOFF) ** (2 * _LOWPASS_ORDER))
    radius = radius.clone()
    radius[0, 0] = 1.0  # keeps log() finite at DC; the filters are zeroed there below
    log_radius = torch.log(radius)

    radial = []
    for s in range(_SCALES):
        centre = 1.0 / (_MIN_WAVELENGTH * _MULT**s)
        gabor = torch.exp(
            -((log_radius - math.log(centre)) ** 2) / (2 * math.log(_SIGMA_ON_F) ** 2)
        )
        gabor = gabor * lowpass
        gabor[0, 0] = 0.0
        radial.append(gabor)

    theta_sigma = math.pi / _ORIENTATIONS / _D_THETA_ON_SIGMA
    sin_t, cos_t = torch.sin(theta), torch.cos(theta)
    angular = []
    for o in range(_ORIENTATIONS):
        angle = o * math.pi / _ORIENTATIONS
        ds = sin_t * math.cos(angle) - cos_t * math.sin(angle)
        dc = cos_t * math.cos(angle) + sin_t * math.sin(angle)
        d_theta = torch.atan2(ds, dc).abs()
        angular.append(torch.exp(-(d_theta**2) / (2 * theta_sigma**2)))
    return torch.stack(angular)[:, None] * torch.stack(radial)[None]  # (O, S, rows, cols)


def _median(values: Tensor) -> Tensor:
    """Median over the last axis, averaging the two middle values for even counts (MATLAB)."""
    n = values.shape[-1]
    upper = torch.kthvalue(values, n // 2 + 1, dim=-1).values
    if n % 2:
        return upper
    return 0.5 * (upper + torch.kthvalue(values, n // 2, dim=-1).values)


def phase_congruency(image: Tensor) -> Tensor:
    """Kovesi's phase congruency ``PC_2`` as ``FeatureSIM.m``'s ``phasecong2`` computes it.

    Filtering is circular (FFT), as in the original. The image should be on the [0, 255] scale:
    the noise threshold is estimated from the image, so the map does not depend on the scale,
    but ``epsilon`` does. A flat image (no response at all) gets 0 where the original divides
    0 by 0.

    Args:
        image: grey images.

    Returns:
        The phase congruency map, in [0, 1].

    Shape:
        - image: :math:`(B, 1, H, W)`, ``H, W >= 2``
        - output: :math:`(B, 1, H, W)`

    Example:
        >>> step = torch.zeros(1, 1, 32, 32)
        >>> step[..., 16:] = 255.0  # edges at columns 15|16 and, circularly, 31|0
        >>> pc = phase_congruency(step)
        >>> int(pc[0, 0, 0].argmax()) in (0, 15, 16, 31)
        True
        >>> float(phase_congruency(torch.full((1, 1, 8, 8), 9.0)).abs().max())
        0.0
    """
    rows, cols = image.shape[-2:]
    filters = _log_gabor_filters(rows, cols, dtype=image.dtype, device=image.device)
    spectrum = torch.fft.fft2(image)  # (B, 1, H, W)
    responses = torch.fft.ifft2(spectrum.unsqueeze(1) * filters)  # (B, O, S, H, W)
    even, odd = responses.real, responses.imag
    amplitude = responses.abs()

    sum_even = even.sum(dim=2)  # (B, O, H, W)
    sum_odd = odd.sum(dim=2)
    x_energy = torch.sqrt(sum_even**2 + sum_odd**2) + _EPSILON
    mean_even = (sum_even / x_energy).unsqueeze(2)
    mean_odd = (sum_odd / x_energy).unsqueeze(2)
    energy = (even * mean_even + odd * mean_odd - (even * mean_odd - odd * mean_even).abs()).sum(
        dim=2
    )  # (B, O, H, W)

    # Noise: the finest scale's median squared response gives the Rayleigh mean of the noise
    # energy, scaled by the filters' (spatial) power to the summed energy of all scales.
    median_e2n = _median((amplitude[:, :, 0] ** 2).flatten(2))  # (B, O)
    mean_e2n = -median_e2n / math.log(0.5)
    em_n = (filters[:, 0] ** 2).sum(dim=(-2, -1))  # (O,)
    noise_power = mean_e2n / em_n
    spatial = torch.fft.ifft2(filters).real * math.sqrt(rows * cols)  # (O, S, H, W)
    sum_an2 = (spatial**2).sum(dim=(1, 2, 3))  # (O,)
    sum_ai_aj = sum(
        (spatial[:, i] * spatial[:, j]).sum(dim=(1, 2))
        for i in range(_SCALES)
        for j in range(i + 1, _SCALES)
    )  # (O,)
    noise_energy2 = 2 * noise_power * sum_an2 + 4 * noise_power * sum_ai_aj  # (B, O)
    tau = torch.sqrt(noise_energy2 / 2)  # Rayleigh parameter
    threshold = tau * (math.sqrt(math.pi / 2) + _K * math.sqrt(2 - math.pi / 2))
    threshold = threshold / _PC2_NOISE_RESCALE
    energy = (energy - threshold[..., None, None]).clamp_min(0)

    energy_all = energy.sum(dim=1, keepdim=True)  # (B, 1, H, W)
    amplitude_all = amplitude.sum(dim=(1, 2)).unsqueeze(1)
    safe = torch.where(amplitude_all > 0, amplitude_all, torch.ones_like(amplitude_all))
    return torch.where(amplitude_all > 0, energy_all / safe, torch.zeros_like(energy_all))


def _downsample(image: Tensor, factor: int) -> Tensor:
    """``conv2(X, ones(F)/F^2, 'same')`` (zero padding) then ``X(1:F:end, 1:F:end)``."""
    if factor == 1:
        return image
    # conv2 'same' with an F-tap kernel: output i averages [i - ceil(F/2) + 1, i + floor(F/2)].
    image = F.pad(image, ((factor - 1) // 2, factor // 2, (factor - 1) // 2, factor // 2))
    return F.avg_pool2d(image, kernel_size=factor, stride=factor)


def _gradient_magnitude(image: Tensor) -> Tensor:
    """Scharr gradient magnitude, zero-padded 'same' size. Shape (B, 1, H, W) -> same."""
    smooth = torch.tensor(_SCHARR, dtype=image.dtype, device=image.device)
    diff = torch.tensor((1.0, 0.0, -1.0), dtype=image.dtype, device=image.device)
    kx = smooth.view(3, 1) * diff.view(1, 3)  # [3 0 -3; 10 0 -10; 3 0 -3] / 16
    kernels = torch.stack([kx, kx.T]).unsqueeze(1)  # (2, 1, 3, 3)
    g = F.conv2d(image, kernels, padding=1)  # (B, 2, H, W)
    return torch.sqrt(g[:, :1] ** 2 + g[:, 1:] ** 2)


def _similarity(a: Tensor, b: Tensor, constant: float) -> Tensor:
    return (2 * a * b + constant) / (a * a + b * b + constant)


def fsim(
    restored: Tensor,
    sharp: Tensor,
    *,
    data_range: float = 1.0,
    chromatic: bool = False,
) -> Tensor:
    """FSIM (or FSIMc with ``chromatic=True``) of each image of a batch.

    The images are rescaled to [0, 255] as ``FeatureSIM.m`` expects; RGB is split into NTSC
    Y (for phase congruency and gradients) and I, Q (for FSIMc's chroma term); grey images use
    their one channel as Y, and for them FSIMc equals FSIM, as in the original. The score is
    symmetric in its two arguments. A pair without any phase-congruent feature (two flat
    images, where the original divides 0 by 0) scores 1.

    Args:
        restored: the images to score.
        sharp: the reference images, same shape.
        data_range: the span of pixel values (1 for images in [0, 1]).
        chromatic: add the I/Q similarity of FSIMc (RGB only; ignored for grey images).

    Returns:
        One score per image, at most 1 (1 for identical images), float32 (float64 for float64
        inputs).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`, ``C`` 1 or 3, ``H, W >= 2``
        - output: :math:`(B,)`

    Example:
        >>> sharp = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> fsim(sharp, sharp)
        tensor([1., 1.])
        >>> bool((fsim(sharp.roll(1, dims=-1), sharp, chromatic=True) < 1).all())
        True
    """
    check_pair(restored, sharp, name="fsim", channels=(1, 3), min_size=2)
    data_range = check_positive(data_range, name="fsim", label="data_range")
    if not isinstance(chromatic, bool):
        raise TypeError(f"fsim: chromatic must be a bool, got {type(chromatic).__name__}")
    dtype = compute_dtype(restored)
    if restored.shape[0] == 0:  # the FFT backends refuse empty batches
        return restored.new_zeros(0, dtype=dtype)
    scale = 255.0 / data_range
    x = restored.to(dtype) * scale
    y = sharp.to(dtype) * scale
    rows, cols = x.shape[-2:]
    # MATLAB's round() rounds halves away from zero; Python's round() would round them to even.
    factor = max(1, math.floor(min(rows, cols) / 256 + 0.5))

    use_chroma = chromatic and x.shape[1] == 3
    if x.shape[1] == 3:
        x_y, x_i, x_q = yiq(x)
        y_y, y_i, y_q = yiq(y)
    else:
        x_y, y_y = x, y
    batch = x.shape[0]
    # Both images through one pass: (2B, 1, h, w).
    luma = _downsample(torch.cat([x_y, y_y]), factor)
    pc_x, pc_y = phase_congruency(luma).split(batch)
    grad_x, grad_y = _gradient_magnitude(luma).split(batch)

    pc_max = torch.maximum(pc_x, pc_y)
    similarity = _similarity(pc_x, pc_y, _T1) * _similarity(grad_x, grad_y, _T2)
    if use_chroma:
        chroma = _downsample(torch.cat([x_i, x_q, y_i, y_q], dim=1), factor)
        c_i, c_q, r_i, r_q = chroma.unbind(dim=1)
        iq = (_similarity(c_i, r_i, _T3) * _similarity(c_q, r_q, _T4)).unsqueeze(1)
        # real(z^lambda) of MATLAB's principal power: |z|^lambda cos(pi lambda) for z < 0.
        similarity = (
            similarity
            * iq.abs().pow(_LAMBDA)
            * torch.where(
                iq < 0, torch.full_like(iq, math.cos(math.pi * _LAMBDA)), torch.ones_like(iq)
            )
        )

    numerator = (similarity * pc_max).flatten(1).sum(dim=1)
    denominator = pc_max.flatten(1).sum(dim=1)
    featureless = denominator == 0
    safe = torch.where(featureless, torch.ones_like(denominator), denominator)
    return torch.where(featureless, torch.ones_like(numerator), numerator / safe)
