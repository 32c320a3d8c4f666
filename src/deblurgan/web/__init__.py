"""The web page and HTTP API of ``deblur serve`` (FastAPI; the ``web`` extra).

:func:`create_app` builds the application around a :class:`ModelPool`; the work itself is in
:mod:`deblurgan.web.service` (one upload restored through the same code as ``deblur IMAGE``),
:mod:`deblurgan.web.queue` (the bounded worker queue) and :mod:`deblurgan.web.limits` (the
upload limit enforced while the body streams).
"""

from deblurgan.web.app import DEFAULT_MAX_UPLOAD, create_app
from deblurgan.web.service import ModelPool, RestoreOptions, restore_upload

__all__ = ["DEFAULT_MAX_UPLOAD", "ModelPool", "RestoreOptions", "create_app", "restore_upload"]
