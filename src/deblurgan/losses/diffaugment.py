"""DiffAugment (Zhao et al., NeurIPS 2020): differentiable augmentation of everything a critic sees.

"Differentiable Augmentation for Data-Efficient GAN Training" augments real and generated images
alike, with transforms that gradients pass through, before they reach the discriminator; the
critic then cannot memorise the few real images and the generator still learns through it. The
three policies are those of the official code (mit-han-lab/data-efficient-gans,
``DiffAugment_pytorch.py``): ``color`` (random brightness, then saturation, then contrast),
``translation`` (a random shift by up to ``1/8`` of the size, the uncovered border filled) and
``cutout`` (a random square of half the size blanked).

Value range. The official code works on images in [-1, 1]; ours are in [0, 1]. We apply the very
same transform to the same picture: ``DiffAugment(x) == (official(2x - 1) + 1) / 2`` for equal
random draws. Saturation and contrast scale deviations from a mean, so their factors (``U(0, 2)``
and ``U(0.5, 1.5)``) are unchanged; the brightness shift ``U(-0.5, 0.5)`` in [-1, 1] units is
``U(-0.25, 0.25)`` in [0, 1] units (a quarter of the range either way, not half); and the
official fill value 0 (of translation padding and cutout) is mid-grey, 0.5 here. Pass
``value_range=(-1.0, 1.0)`` for images in [-1, 1], which gives the official amounts literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["DIFFAUGMENT_POLICIES", "DiffAugment"]

#: Policy names and the operations each runs, in order. ``color``, ``translation`` and
#: ``cutout`` are the official policies; the three colour operations may also be named singly.
DIFFAUGMENT_POLICIES: dict[str, tuple[str, ...]] = {
    "color": ("brightness", "saturation", "contrast"),
    "translation": ("translation",),
    "cutout": ("cutout",),
    "brightness": ("brightness",),
    "saturation": ("saturation",),
    "contrast": ("contrast",),
}


def _parse_policy(policy: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(policy, str):
        names = [part.strip() for part in policy.split(",")]
    elif isinstance(policy, Sequence) and all(isinstance(p, str) for p in policy):
        names = [part.strip() for part in policy]
    else:
        raise TypeError(
            f"DiffAugment policy must be a comma-separated string or a sequence of names, "
            f"got {policy!r}"
        )
    names = [name for name in names if name]
    unknown = [name for name in names if name not in DIFFAUGMENT_POLICIES]
    if unknown:
        raise ValueError(
            f"unknown DiffAugment policy {', '.join(map(repr, unknown))}; "
            f"valid: {', '.join(DIFFAUGMENT_POLICIES)}"
        )
    return tuple(names)


def _ratio(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"DiffAugment {name} must be a number in [0, 1], got {value!r}")
    return float(value)


class DiffAugment(nn.Module):
    """Random colour, translation and cutout, the same for every tensor of one call.

    Each sample of the batch gets its own random parameters. Several tensors given together
    (an image and the blurry condition of a conditional critic) get the *same* transform, so
    they stay aligned; each is normalised by its own means (saturation, contrast). The module
    has no parameters, is differentiable with respect to its inputs and augments in train and
    eval mode alike (only the critic's inputs go through it, and only while training).

    The operations, with per-sample draws ``u ~ U(0, 1)`` and ``r = (high - low) / 2`` (0.5 for
    images in [0, 1]; see the module docstring):

    - ``brightness``: ``x + (u - 0.5) * r``.
    - ``saturation``: ``(x - m_c) * 2u + m_c``, ``m_c`` the per-pixel mean over channels.
    - ``contrast``: ``(x - m) * (u + 0.5) + m``, ``m`` the image's mean over ``C, H, W``.
    - ``translation``: the content moves by ``(dy, dx)``, integers drawn uniformly from
      ``[-s_h, s_h]`` and ``[-s_w, s_w]`` with ``s = int(size * translation_ratio + 0.5)``:
      ``out[..., y, x] = x[..., y - dy, x - dx]``, the uncovered border set to the fill value
      ``(low + high) / 2``.
    - ``cutout``: a ``c_h x c_w`` rectangle, ``c = int(size * cutout_ratio + 0.5)``, whose
      centre ``(oy, ox)`` is drawn from ``[0, H + 1 - c_h % 2)`` x ``[0, W + 1 - c_w % 2)``,
      covering rows ``oy - c_h // 2 ...`` (clipped at the border), is set to the fill value.

    Random numbers come from ``generator`` (drawn on its device, in this order per operation:
    brightness ``u``; saturation ``u``; contrast ``u``; translation ``dy`` then ``dx``; cutout
    ``oy`` then ``ox``, each a ``(B,)`` tensor) and are moved to the input's device. Without a
    generator they come from torch's default generator of the input's device.

    Args:
        policy: comma-separated names from :data:`DIFFAUGMENT_POLICIES` (or a sequence of
            them), applied in order; ``""`` is the identity.
        translation_ratio: largest shift as a fraction of the height and width, in [0, 1].
        cutout_ratio: side of the cut-out rectangle as a fraction of the height and width.
        generator: source of the random numbers (``None``: torch's default).
        value_range: ``(low, high)`` of the images; sets the brightness amount and the fill.

    Shape:
        - images: one or more :math:`(B, C_i, H, W)` tensors (equal ``B``, ``H``, ``W``).
        - output: a tensor of the same shape for one input, else a tuple of them.

    Example:
        >>> augment = DiffAugment("color,translation,cutout",
        ...                       generator=torch.Generator().manual_seed(0))
        >>> image, condition = augment(torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16))
        >>> image.shape, condition.shape
        (torch.Size([2, 3, 16, 16]), torch.Size([2, 3, 16, 16]))
        >>> DiffAugment("")(torch.ones(1, 3, 4, 4)).sum().item()
        48.0
    """

    def __init__(
        self,
        policy: str | Sequence[str] = "color,translation,cutout",
        *,
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        generator: torch.Generator | None = None,
        value_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        super().__init__()
        self.policy = _parse_policy(policy)
        self.translation_ratio = _ratio("translation_ratio", translation_ratio)
        self.cutout_ratio = _ratio("cutout_ratio", cutout_ratio)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
        self.generator = generator
        low, high = (float(v) for v in value_range)
        if not low < high:
            raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
        self.value_range = (low, high)

    def extra_repr(self) -> str:
        return (
            f"policy={','.join(self.policy)!r}, translation_ratio={self.translation_ratio}, "
            f"cutout_ratio={self.cutout_ratio}, value_range={self.value_range}"
        )

    @property
    def _fill(self) -> float:
        return (self.value_range[0] + self.value_range[1]) / 2

    # ------------------------------------------------------------------------ random numbers
    def _device(self, x: Tensor) -> torch.device:
        return self.generator.device if self.generator is not None else x.device

    def _uniform(self, x: Tensor) -> Tensor:
        """``(B, 1, 1, 1)`` draws from U(0, 1) in ``x``'s dtype and device."""
        u = torch.rand(x.shape[0], generator=self.generator, device=self._device(x))
        return u.to(device=x.device, dtype=x.dtype).view(-1, 1, 1, 1)

    def _integers(self, x: Tensor, low: int, high: int) -> Tensor:
        """``(B,)`` integers from ``[low, high)`` on ``x``'s device."""
        drawn = torch.randint(
            low, high, (x.shape[0],), generator=self.generator, device=self._device(x)
        )
        return drawn.to(x.device)

    # ---------------------------------------------------------------------------- operations
    def _brightness(self, images: list[Tensor]) -> list[Tensor]:
        half_range = (self.value_range[1] - self.value_range[0]) / 2
        shift = (self._uniform(images[0]) - 0.5) * half_range
        return [x + shift for x in images]

    def _saturation(self, images: list[Tensor]) -> list[Tensor]:
        factor = self._uniform(images[0]) * 2
        out = []
        for x in images:
            mean = x.mean(dim=1, keepdim=True)
            out.append((x - mean) * factor + mean)
        return out

    def _contrast(self, images: list[Tensor]) -> list[Tensor]:
        factor = self._uniform(images[0]) + 0.5
        out = []
        for x in images:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            out.append((x - mean) * factor + mean)
        return out

    def _translation(self, images: list[Tensor]) -> list[Tensor]:
        first = images[0]
        batch, _, height, width = first.shape
        shift_h = int(height * self.translation_ratio + 0.5)
        shift_w = int(width * self.translation_ratio + 0.5)
        dy = self._integers(first, -shift_h, shift_h + 1)
        dx = self._integers(first, -shift_w, shift_w + 1)
        device = first.device
        # Source row/column of every output pixel in the padded image: y - dy + shift_h.
        rows = torch.arange(height, device=device) - dy[:, None] + shift_h  # (B, H)
        cols = torch.arange(width, device=device) - dx[:, None] + shift_w  # (B, W)
        index_b = torch.arange(batch, device=device)[:, None, None]
        out = []
        for x in images:
            padded = F.pad(x, (shift_w, shift_w, shift_h, shift_h), value=self._fill)
            # Advanced indices around a slice put their dimensions first: (B, H, W, C).
            picked = padded[index_b, :, rows[:, :, None], cols[:, None, :]]
            out.append(picked.permute(0, 3, 1, 2))
        return out

    def _cutout(self, images: list[Tensor]) -> list[Tensor]:
        first = images[0]
        _, _, height, width = first.shape
        cut_h = int(height * self.cutout_ratio + 0.5)
        cut_w = int(width * self.cutout_ratio + 0.5)
        centre_y = self._integers(first, 0, height + 1 - cut_h % 2)
        centre_x = self._integers(first, 0, width + 1 - cut_w % 2)
        device = first.device
        ys = torch.arange(height, device=device) - (centre_y[:, None] - cut_h // 2)  # (B, H)
        xs = torch.arange(width, device=device) - (centre_x[:, None] - cut_w // 2)  # (B, W)
        inside = ((ys >= 0) & (ys < cut_h))[:, :, None] & ((xs >= 0) & (xs < cut_w))[:, None, :]
        cut = inside[:, None]  # (B, 1, H, W)
        return [torch.where(cut, torch.full_like(x, self._fill), x) for x in images]

    # ------------------------------------------------------------------------------- forward
    def forward(self, *images: Tensor) -> Tensor | tuple[Tensor, ...]:
        if not images:
            raise TypeError("DiffAugment needs at least one image tensor")
        for x in images:
            if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
                raise ValueError(
                    "DiffAugment takes floating-point (B, C, H, W) tensors, got "
                    f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}"
                )
        first = images[0]
        for x in images[1:]:
            if x.shape[0] != first.shape[0] or x.shape[-2:] != first.shape[-2:]:
                raise ValueError(
                    "DiffAugment's tensors must share batch size, height and width, got "
                    f"{tuple(first.shape)} and {tuple(x.shape)}"
                )
        out = list(images)
        for name in self.policy:
            for op in DIFFAUGMENT_POLICIES[name]:
                operation: Callable[[list[Tensor]], list[Tensor]] = getattr(self, f"_{op}")
                out = operation(out)
        return out[0] if len(out) == 1 else tuple(out)
