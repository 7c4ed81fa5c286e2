"""How an alert reads in a terminal: one glance says what, where and what to do."""

from __future__ import annotations

from engine.firing import Firing

_COLORS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_RESET = "\033[0m"


def format_firing(firing: Firing, color: bool = False) -> str:
    level = "RESOLVED" if firing.resolves else firing.severity.upper()
    head = f"[{level}] {firing.time:%Y-%m-%d %H:%M:%S}Z {firing.rule}: {firing.title}"
    if color:
        head = f"{_COLORS.get(firing.severity, '')}{head}{_RESET}"
    lines = [head]
    lines.extend(f"    {line}" for line in firing.text.splitlines() if line.strip())
    for action in firing.actions:
        args = " ".join(f"{k}={v}" for k, v in action.args.items())
        lines.append(f"    -> {action.hook} ({action.mode}) {args}".rstrip())
    return "\n".join(lines)
