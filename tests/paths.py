"""Where the repository and its test corpus are, for tests that run files or programs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: the vendored corpus (tests/corpus/README.md); DREAMCATCHER_CORPUS overrides it
CORPUS = Path(os.environ.get("DREAMCATCHER_CORPUS", REPO / "tests" / "corpus")).resolve()
#: one expectation rule on real nova notifications (create.start, then create.end in 10m)
CREATE_NEVER_ENDED = REPO / "tests" / "sample_rules" / "create-never-ended.yaml"


def corpus_notifications(corpus: Path = CORPUS, *, recorded: bool = True
                         ) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(origin, message)`` for every notification sample of the corpus (the shared
    payload fragments beside the samples are skipped) and, with ``recorded``, every
    message of the real 2025.1 bus recording."""
    from adapters.notifications import decode_body, load_sample
    from adapters.notifications.files import decode_document

    for path in sorted(corpus.glob("notifications/**/*.json")):
        try:
            message = decode_body(load_sample(path))
        except Exception:  # a payload fragment, not a notification
            continue
        if isinstance(message.get("event_type"), str):
            yield str(path), message
    if recorded:
        recording = corpus / "openstack-2025.1" / "notifications.jsonl"
        for n, line in enumerate(recording.read_text().splitlines(), start=1):
            yield f"{recording}:{n}", decode_document(line)
