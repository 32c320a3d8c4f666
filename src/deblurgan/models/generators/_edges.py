"""Edge maps for the generators' ``edge_input`` option: Sobel gradient magnitude (Sobel, 1968).

Concatenating an edge map to the blurry input is the edge-guided deblurring input of the
founding documents; the map is computed inside ``forward`` so the model still takes an RGB image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["sobel_magnitude"]

# ITU-R BT.601 luma weights, the grey conversion of scikit-image's rgb2gray.
_LUMA = (0.2125, 0.7154, 0.0721)


def sobel_magnitude(image: Tensor) -> Tensor:
    """Sobel gradient magnitude of the grey image, as ``skimage.filters.sobel`` computes it.

    Grey is ``0.2125 R + 0.7154 G + 0.0721 B`` (scikit-image's ``rgb2gray``); the kernels are the
    smoothing ``[1, 2, 1] / 4`` times the difference ``[1, 0, -1]``; the magnitude is
    ``sqrt((gx^2 + gy^2) / 2)`` and the border is extended by edge replication (scipy's
    ``"reflect"`` for a 3x3 kernel). A unit step edge gives about 0.71.

    Args:
        image: RGB ``(B, 3, H, W)`` or grey ``(B, 1, H, W)``, in [0, 1].

    Returns:
        ``(B, 1, H, W)``, non-negative.

    Example:
        >>> step = torch.zeros(1, 3, 4, 4)
        >>> step[..., 2:] = 1
        >>> [round(v, 4) for v in sobel_magnitude(step)[0, 0, 0].tolist()]
        [0.0, 0.7071, 0.7071, 0.0]
    """
    if image.ndim != 4 or image.shape[1] not in (1, 3):
        raise ValueError(
            f"expected an image (B, 3, H, W) or (B, 1, H, W), got {tuple(image.shape)}"
        )
    if image.shape[1] == 3:
        luma = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
        grey = (image * luma).sum(dim=1, keepdim=True)
    else:
        grey = image
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=image.dtype, device=image.device) / 4
    diff = torch.tensor([1.0, 0.0, -1.0], dtype=image.dtype, device=image.device)
    kernels = torch.stack([torch.outer(smooth, diff), torch.outer(diff, smooth)]).unsqueeze(1)
    grads = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)  # (B, 2, H, W)
    return torch.sqrt(grads.pow(2).sum(dim=1, keepdim=True) / 2)
