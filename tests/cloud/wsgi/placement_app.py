"""gunicorn entry point for placement (``sys.argv`` hidden from oslo.config, as keystone's)."""

import sys

_argv, sys.argv = sys.argv, sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402

sys.argv = _argv
__all__ = ["application"]
