"""Inference: run a generator on images of any size (padding, tiling, precision) and on files."""

from deblurgan.inference.deblurrer import Deblurrer, pad_to_multiple
from deblurgan.inference.files import deblur_file, output_suffix

__all__ = ["Deblurrer", "deblur_file", "output_suffix", "pad_to_multiple"]
