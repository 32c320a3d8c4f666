"""Pixels in and out: image files as float RGB tensors in [0, 1] (every mode, 8/16 bits, EXIF).

``read_image`` decodes a file (with a decompression-bomb guard), ``write_image`` encodes one
atomically, ``find_images`` expands files, folders and glob patterns, and ``atomic_write`` is the
one atomic writer every file the package writes goes through; ``read_kernel`` and
``write_kernel`` are the one reader and writer of blur kernel files. Every failure that is the
file's fault raises :class:`ImageError`, whose message is one line: ``"<path>: <problem>"``.

Bytes from elsewhere: :func:`download` is the package's one downloader (a verified, bounded
fetch into :func:`cache_dir`), :mod:`deblurgan.io.archive` unpacks a package safely and
:mod:`deblurgan.io.numpy_pickle` reads pickled numpy weights without running code.
"""

from deblurgan.io.atomic import atomic_write, atomic_write_text
from deblurgan.io.download import (
    DownloadError,
    UnsafeURLError,
    cache_dir,
    download,
    is_url,
    redact_url,
)
from deblurgan.io.errors import ImageError, describe_failure, one_line, printable
from deblurgan.io.image import (
    DEFAULT_MAX_PIXELS,
    WRITE_EXTENSIONS,
    DecodedImage,
    image_pixels,
    image_to_tensor,
    read_image,
    rgb_to_grey,
    tensor_to_array,
    write_image,
)
from deblurgan.io.kernel import check_kernel, read_kernel, write_kernel
from deblurgan.io.paths import IMAGE_EXTENSIONS, find_images, is_image_path

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "DecodedImage",
    "DownloadError",
    "ImageError",
    "UnsafeURLError",
    "atomic_write",
    "atomic_write_text",
    "cache_dir",
    "check_kernel",
    "describe_failure",
    "download",
    "find_images",
    "image_pixels",
    "image_to_tensor",
    "is_image_path",
    "is_url",
    "one_line",
    "printable",
    "read_image",
    "read_kernel",
    "redact_url",
    "rgb_to_grey",
    "tensor_to_array",
    "write_image",
    "write_kernel",
]
