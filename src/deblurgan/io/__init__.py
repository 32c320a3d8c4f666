"""Pixels in and out: image files as float RGB tensors in [0, 1] (every mode, 8/16 bits, EXIF).

``read_image`` decodes a file (with a decompression-bomb guard), ``write_image`` encodes one
atomically, ``find_images`` expands files, folders and glob patterns, and ``atomic_write`` is the
one atomic writer every file the package writes goes through. Every failure that is the file's
fault raises :class:`ImageError`, whose message is one line: ``"<path>: <problem>"``.
"""

from deblurgan.io.atomic import atomic_write, atomic_write_text
from deblurgan.io.errors import ImageError
from deblurgan.io.image import (
    DEFAULT_MAX_PIXELS,
    WRITE_EXTENSIONS,
    DecodedImage,
    image_to_tensor,
    read_image,
    rgb_to_grey,
    tensor_to_array,
    write_image,
)
from deblurgan.io.paths import IMAGE_EXTENSIONS, find_images, is_image_path

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "DecodedImage",
    "ImageError",
    "atomic_write",
    "atomic_write_text",
    "find_images",
    "image_to_tensor",
    "is_image_path",
    "read_image",
    "rgb_to_grey",
    "tensor_to_array",
    "write_image",
]
