"""Where the repository and its test corpus are, for tests that run files or programs."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: the vendored corpus (tests/corpus/README.md); DREAMCATCHER_CORPUS overrides it
CORPUS = Path(os.environ.get("DREAMCATCHER_CORPUS", REPO / "tests" / "corpus")).resolve()
