"""Double-scale critic of DeblurGAN-v2 (Kupyn et al., 2019): local patches plus the whole crop."""

from __future__ import annotations

from torch import Tensor, nn

from deblurgan.models.discriminators.patchgan import PatchDiscriminator
from deblurgan.models.registries import DISCRIMINATORS

__all__ = ["DoubleScaleDiscriminator"]


@DISCRIMINATORS.register("double_scale")
class DoubleScaleDiscriminator(nn.Module):
    """Score 70x70 patches (depth 3) and the near-global view (depth 5); one logit map per scale.

    Both critics see the same full-resolution input, as in the authors' ``double_gan``: the
    global one reaches a 286x286 receptive field, about the 256x256 training crop.

    Args:
        in_channels: input channels.
        width: channels of the first convolution of both critics.
        norm: ``"instance"``, ``"batch"`` or ``"none"``.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`, ``H`` and ``W`` divisible by 32 and at least 128.
        - Output: ``[local, whole]`` with shapes :math:`(B, 1, H/8 - 2, W/8 - 2)` and
          :math:`(B, 1, H/32 - 2, W/32 - 2)`.

    Example:
        >>> import torch
        >>> maps = DoubleScaleDiscriminator(width=8)(torch.rand(2, 3, 128, 128))
        >>> [m.shape[-1] for m in maps]
        [14, 2]
    """

    def __init__(self, in_channels: int = 3, *, width: int = 64, norm: str = "instance") -> None:
        super().__init__()
        self.local = PatchDiscriminator(in_channels, width=width, depth=3, norm=norm)
        self.whole = PatchDiscriminator(in_channels, width=width, depth=5, norm=norm)

    def forward(self, image: Tensor) -> list[Tensor]:
        return [*self.local(image), *self.whole(image)]
