"""deblurgan.io.kernel: the one reader and writer of blur kernel files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.blur import BLUR_SAMPLERS
from deblurgan.io import ImageError, read_kernel, write_kernel


def test_a_written_kernel_reads_back_as_itself(tmp_path: Path) -> None:
    sampler = BLUR_SAMPLERS.build("trajectory", kernel_size=15)
    kernel = sampler.sample(1, generator=torch.Generator().manual_seed(3)).kernels[0].double()
    path = write_kernel(tmp_path / "k.png", kernel * 7.0)  # any scale
    with Image.open(path) as image:
        assert image.mode in ("I;16", "I;16B", "I") and image.size == (15, 15)  # grey, 16 bits
        assert int(np.asarray(image).max()) == 65535  # the peak is white
    back = read_kernel(path)
    assert back.dtype == torch.float64 and back.shape == (15, 15)
    torch.testing.assert_close(back, kernel / kernel.sum(), atol=2e-5, rtol=0)


def test_writing_refuses_what_is_not_a_kernel(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive peak"):
        write_kernel(tmp_path / "zero.png", torch.zeros(3, 3))
    with pytest.raises(ValueError, match="2-D"):
        write_kernel(tmp_path / "cube.png", torch.ones(2, 3, 3))
    assert not list(tmp_path.iterdir())


def test_reading_names_the_file_and_the_problem(tmp_path: Path) -> None:
    np.save(tmp_path / "neg.npy", np.array([[0.5, -0.1], [0.3, 0.3]]))
    with pytest.raises(ImageError, match=r"neg.npy: the kernel has 1 negative value"):
        read_kernel(tmp_path / "neg.npy")
    with pytest.raises(ImageError, match=r"missing.png: "):
        read_kernel(tmp_path / "missing.png")
