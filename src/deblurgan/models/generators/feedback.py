"""A feedback encoder-decoder with a ConvLSTM, iterated T times (Li et al., 2019; Tao et al., 2018).

"Feedback Network for Image Super-Resolution" (SRFBN, CVPR 2019) runs one network several times,
carrying a hidden state from one iteration to the next so that high-level information flows back
to refine the low-level features, and supervises every iteration's output (curriculum by
iteration). "Scale-recurrent Network for Deep Image Deblurring" (SRN, CVPR 2018) shows the
deblurring form: an encoder-decoder of residual blocks with a ConvLSTM at its bottleneck, run
repeatedly with the previous estimate as part of the input. Here each iteration sees the blurry
image concatenated with the previous estimate (the blurry image at first), the ConvLSTM state is
carried across iterations at quarter resolution, and the decoder predicts a correction added to
the blurry image. The last convolution starts at zero, so the untrained model is the identity.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deblurgan.models.registries import GENERATORS
from deblurgan.nn import ConvLSTMCell, ResidualBlock

__all__ = ["FeedbackGenerator"]


def _blocks(channels: int, n_blocks: int) -> list[nn.Module]:
    return [
        ResidualBlock(channels, norm="none", padding_mode="zeros", bias=True)
        for _ in range(n_blocks)
    ]


@GENERATORS.register("feedback")
class FeedbackGenerator(nn.Module):
    """Encoder -> ConvLSTM -> decoder, run ``iterations`` times on ``[blurry, estimate]``.

    The encoder has three levels (``width``, ``2 width``, ``4 width`` channels at full, half and
    quarter resolution) of ``n_blocks`` residual blocks; the decoder mirrors it with transposed
    convolutions and additive skips. :meth:`forward` returns the last estimate;
    :meth:`forward_iterations` returns all of them, first to last, for a loss on each.

    Args:
        width: channels at full resolution.
        iterations: how many times the network runs (T).
        n_blocks: residual blocks per encoder and decoder level.

    Shape:
        - Input: :math:`(B, 3, H, W)` in [0, 1], H and W divisible by ``size_multiple`` (4).
        - Output: :math:`(B, 3, H, W)` in [0, 1].

    Example:
        >>> import torch
        >>> net = FeedbackGenerator(width=4, iterations=2, n_blocks=1)
        >>> blurry = torch.rand(1, 3, 8, 12)
        >>> [e.shape[-1] for e in net.forward_iterations(blurry)]
        [12, 12]
        >>> torch.equal(net(blurry), blurry)  # the untrained model is the identity
        True
    """

    paper = "Li et al. 2019 (SRFBN) with Tao et al. 2018's ConvLSTM (SRN)"
    size_multiple: int = 4

    def __init__(self, *, width: int = 32, iterations: int = 3, n_blocks: int = 2) -> None:
        super().__init__()
        for key, value in (("width", width), ("iterations", iterations), ("n_blocks", n_blocks)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive int, got {value!r}")
        self.iterations = iterations
        c1, c2, c3 = width, 2 * width, 4 * width
        relu = nn.ReLU
        self.enc1 = nn.Sequential(
            nn.Conv2d(6, c1, 3, padding=1), relu(True), *_blocks(c1, n_blocks)
        )
        self.enc2 = nn.Sequential(  # (B, 2w, H/2, W/2)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), relu(True), *_blocks(c2, n_blocks)
        )
        self.enc3 = nn.Sequential(  # (B, 4w, H/4, W/4)
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), relu(True), *_blocks(c3, n_blocks)
        )
        self.lstm = ConvLSTMCell(c3, c3)
        self.dec3 = nn.Sequential(*_blocks(c3, n_blocks))
        self.up2 = nn.Sequential(nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), relu(True))
        self.dec2 = nn.Sequential(*_blocks(c2, n_blocks))
        self.up1 = nn.Sequential(nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), relu(True))
        self.dec1 = nn.Sequential(*_blocks(c1, n_blocks))
        self.tail = nn.Conv2d(c1, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # the untrained model is the identity
        nn.init.zeros_(self.tail.bias)  # type: ignore[arg-type]  # bias=True: never None

    def forward_iterations(self, blurry: Tensor) -> list[Tensor]:
        """Every iteration's estimate, first to last, each ``(B, 3, H, W)`` in [0, 1]."""
        h, w = blurry.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"feedback needs height and width divisible by {self.size_multiple}, "
                f"got {h}x{w}; pad the input first"
            )
        estimate = blurry
        state: tuple[Tensor, Tensor] | None = None
        estimates: list[Tensor] = []
        for _ in range(self.iterations):
            e1 = self.enc1(torch.cat([blurry, estimate], dim=1))
            e2 = self.enc2(e1)
            state = self.lstm(self.enc3(e2), state)
            d2 = self.dec2(self.up2(self.dec3(state[0])) + e2)
            d1 = self.dec1(self.up1(d2) + e1)
            estimate = (blurry + self.tail(d1)).clamp(0, 1)
            estimates.append(estimate)
        return estimates

    def forward(self, blurry: Tensor) -> Tensor:
        return self.forward_iterations(blurry)[-1]
