"""How long the fuzz tests run: seconds in the suite, longer at night (docs/limits.md).

``DREAMCATCHER_FUZZ_EXAMPLES`` sets the examples per test (default 150: a few
seconds in all); ``DREAMCATCHER_FUZZ_RANDOM=1`` drops the fixed seed, so each
nightly run explores inputs the suite's seed never reaches. A failure prints the
minimal input and how to reproduce it (``@reproduce_failure``): make it a test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("DREAMCATCHER_FUZZ_EXAMPLES", "150"))
RANDOM = os.environ.get("DREAMCATCHER_FUZZ_RANDOM") == "1"

FUZZ = settings(max_examples=EXAMPLES, derandomize=not RANDOM, deadline=None,
                database=None, suppress_health_check=[HealthCheck.too_slow,
                                                       HealthCheck.data_too_large])
