"""What the alert router decides for each firing, with nothing sent (``explain``).

The deployment's alerting section (or the defaults) builds a real ``Router`` with no
sinks; each firing is submitted and the decision is the counter ``Router._decide``
moved (``notified``, ``suppressed``, ``repeated``, ``silenced``, ``duplicate``,
``resolved``, ...). So a decision the router learns later (inhibition) shows up
here by its counter's name with no change; ``REASONS`` is where it can add how to
say why (e.g. which alert inhibited this one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.alerting.config import AlertingConfig, build_router
from adapters.alerting.router import Router, group_key_of
from dreamcatcher.config import load_config
from dreamcatcher.errors import RuntimeFailure
from engine.firing import Firing
from engine.templates import utc_stamp
from engine.yamlsource import SourceError

#: counters that are bookkeeping, not the decision about one firing
_NOT_DECISIONS = frozenset({"submitted", "groups_evicted"})

Reason = Callable[[Router, Firing], str]


def _silenced(router: Router, firing: Firing) -> str:
    silence = router.silences.matching(firing)
    if silence is None:  # pragma: no cover - the router just matched it
        return "silenced"
    why = f": {silence.comment}" if silence.comment else ""
    return f"silenced by {silence.id} until {utc_stamp(silence.ends_at)}{why}"


def _folded(router: Router, firing: Firing) -> str:
    repeat = firing.repeat_seconds if firing.repeat_seconds is not None else (
        router.default_repeat)
    return (f"folded into open group {group_key_of(firing)}: no new notice within "
            f"its repeat interval ({repeat:g} s)")


#: decision -> how to say why; a decision missing here is said by its name
REASONS: dict[str, Reason] = {
    "notified": lambda _r, f: f"notified: first alert of group {group_key_of(f)}",
    "repeated": lambda _r, f: f"notified again: repeat of group {group_key_of(f)}",
    "suppressed": _folded,
    "silenced": _silenced,
    "duplicate": lambda _r, _f: "de-duplicated: a firing with this id was routed already",
    "resolved": lambda _r, f: f"resolved group {group_key_of(f)}",
    "resolve_without_group": lambda _r, _f: "resolve with no open group: nothing sent",
}


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str


class RouterDecisions:
    """A sinkless router built from ``config_path``'s alerting section (or the defaults)."""

    def __init__(self, config_path: Path | None) -> None:
        alerting = AlertingConfig()
        if config_path is not None:
            try:
                alerting = load_config(config_path).alerting
            except SourceError as exc:
                raise RuntimeFailure("config", str(exc)) from None
        self.source = str(config_path) if config_path is not None else "defaults"
        quiet = alerting.model_copy(update={"sinks": [], "dead_letter_path": None})
        self.router = build_router(quiet)

    def decide(self, firing: Firing) -> Decision:
        before = Counter(self.router.counts)
        self.router.submit(firing)
        moved = [name for name, n in (self.router.counts - before).items()
                 if n and name not in _NOT_DECISIONS]
        decision = moved[0] if moved else "none"
        reason = REASONS.get(decision)
        return Decision(decision, reason(self.router, firing) if reason else decision)
