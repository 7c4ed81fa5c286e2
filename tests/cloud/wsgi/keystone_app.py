"""gunicorn entry point for keystone: its import parses ``sys.argv`` with oslo.config,
which gunicorn's own arguments would break, so they are hidden during the import."""

import sys

_argv, sys.argv = sys.argv, sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402

sys.argv = _argv
__all__ = ["application"]
