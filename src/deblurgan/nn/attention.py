"""Attention and recurrence blocks: non-local self-attention, squeeze-excitation, ConvLSTM.

- :class:`SelfAttention2d`: the non-local block of Wang et al., "Non-local Neural Networks"
  (CVPR 2018), in the embedded-Gaussian form with the learnt zero-initialised gate of Zhang et
  al., "Self-Attention Generative Adversarial Networks" (SAGAN, ICML 2019).
- :class:`SqueezeExcitation`: channel attention of Hu et al., "Squeeze-and-Excitation Networks"
  (CVPR 2018), the gate that RCAN's channel-attention blocks use (Zhang et al., ECCV 2018).
- :class:`ConvLSTMCell`: the convolutional LSTM of Shi et al., "Convolutional LSTM Network: A
  Machine Learning Approach for Precipitation Nowcasting" (NeurIPS 2015).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ConvLSTMCell", "SelfAttention2d", "SqueezeExcitation"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class SelfAttention2d(nn.Module):
    """Non-local self-attention over all positions, gated by a learnt scalar ``gamma``.

    ``y = x + gamma * v(x) softmax(q(x)^T k(x))``: each position attends to every other one
    (Wang et al., 2018, embedded Gaussian); ``q``, ``k`` are 1x1 convolutions to
    ``channels // reduction`` channels and ``v`` a 1x1 convolution keeping ``channels`` (SAGAN).
    ``gamma`` starts at 0, so an untrained block is the identity and the network first learns
    local features, then leans on the non-local evidence.

    Memory grows with ``(H W)^2``: use it on coarse feature maps.

    Args:
        channels: input and output channels.
        reduction: channel reduction of the query and key embeddings (8 in SAGAN).

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> attn = SelfAttention2d(8, reduction=4)
        >>> x = torch.rand(2, 8, 5, 6)
        >>> torch.equal(attn(x), x)  # gamma == 0 at initialisation
        True
    """

    def __init__(self, channels: int, *, reduction: int = 8) -> None:
        super().__init__()
        _positive_int("channels", channels)
        _positive_int("reduction", reduction)
        inner = max(1, channels // reduction)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def attention(self, x: Tensor) -> Tensor:
        """The attention map: row ``i`` holds the weights position ``i`` gives every position.

        Args:
            x: features ``(B, C, H, W)``.

        Returns:
            ``(B, H W, H W)``, each row non-negative and summing to 1.
        """
        q = self.query(x).flatten(2)  # (B, C', N)
        k = self.key(x).flatten(2)  # (B, C', N)
        return torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (B, N, N)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        v = self.value(x).flatten(2)  # (B, C, N)
        out = v @ self.attention(x).transpose(1, 2)  # (B, C, N): out_i = sum_j a_ij v_j
        return x + self.gamma * out.view(b, c, h, w)

    def macs(self, x: Tensor) -> int:
        """Multiply-accumulates of the two matrix products (the 1x1 convolutions are counted by
        :func:`deblurgan.models.complexity.count_macs` on their own)."""
        b, c, h, w = x.shape
        n = h * w
        return int(b * n * n * (self.query.out_channels + c))


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: rescale each channel by a gate computed from global statistics.

    ``y = x * sigmoid(W2 relu(W1 mean_hw(x)))`` (Hu et al., 2018), with ``W1`` reducing the
    channels by ``reduction`` and ``W2`` restoring them (1x1 convolutions with bias, as in RCAN).

    Args:
        channels: input and output channels.
        reduction: channel reduction of the bottleneck (16 in both papers).

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`

    Example:
        >>> se = SqueezeExcitation(8, reduction=4)
        >>> gate = se.gate(torch.rand(2, 8, 5, 5))
        >>> gate.shape, bool(((gate > 0) & (gate < 1)).all())
        (torch.Size([2, 8, 1, 1]), True)
    """

    def __init__(self, channels: int, *, reduction: int = 16) -> None:
        super().__init__()
        _positive_int("channels", channels)
        _positive_int("reduction", reduction)
        hidden = max(1, channels // reduction)
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.excite = nn.Conv2d(hidden, channels, 1)

    def gate(self, x: Tensor) -> Tensor:
        """Per-channel weights in (0, 1), shape ``(B, C, 1, 1)``."""
        pooled = x.mean(dim=(-2, -1), keepdim=True)
        return torch.sigmoid(self.excite(torch.relu(self.squeeze(pooled))))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class ConvLSTMCell(nn.Module):
    """One step of a convolutional LSTM: the LSTM's gates computed by a convolution.

    ``i, f, o, g = conv([x, h])``; ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``;
    ``h' = sigmoid(o) tanh(c')`` (Shi et al., 2015, without the peephole terms). One convolution
    computes all four gates; the state starts at zeros.

    Args:
        in_channels: channels of the input ``x``.
        hidden_channels: channels of the hidden and cell states.
        kernel_size: odd kernel size of the gate convolution.

    Shape:
        - x: :math:`(B, C_{in}, H, W)`; state: ``(h, c)``, each :math:`(B, C_h, H, W)`, or None.
        - Output: the new ``(h, c)``.

    Example:
        >>> cell = ConvLSTMCell(3, 4)
        >>> h, c = cell(torch.rand(2, 3, 6, 7))
        >>> h.shape, c.shape
        (torch.Size([2, 4, 6, 7]), torch.Size([2, 4, 6, 7]))
        >>> h, c = cell(torch.rand(2, 3, 6, 7), (h, c))
    """

    def __init__(self, in_channels: int, hidden_channels: int, *, kernel_size: int = 3) -> None:
        super().__init__()
        _positive_int("in_channels", in_channels)
        _positive_int("hidden_channels", hidden_channels)
        if _positive_int("kernel_size", kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.gates = nn.Conv2d(
            in_channels + hidden_channels,
            4 * hidden_channels,
            kernel_size,
            padding=kernel_size // 2,
        )

    def init_state(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Zero hidden and cell states matching ``x``'s batch, size, dtype and device."""
        b, _, h, w = x.shape
        zeros = x.new_zeros(b, self.hidden_channels, h, w)
        return zeros, zeros.clone()

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        h, c = self.init_state(x) if state is None else state
        if h.shape[-2:] != x.shape[-2:] or h.shape[:2] != (x.shape[0], self.hidden_channels):
            raise ValueError(
                f"state of shape {tuple(h.shape)} does not fit input {tuple(x.shape)} "
                f"with {self.hidden_channels} hidden channels"
            )
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c
