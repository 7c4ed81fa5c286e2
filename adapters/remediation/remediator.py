"""Runs (or dry-runs) what firings ask for: both opt-ins, rate limits, timeouts, audit.

A hook acts for real only when the rule wrote ``mode: enforce`` *and* the
deployment lists the hook in ``enforce``. Every request, whatever becomes of
it, leaves one audit record.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.alerting.limits import FieldLimits
from adapters.remediation.audit import AuditLog, AuditRecord, Outcome
from adapters.remediation.config import RemediationConfig
from adapters.remediation.hooks.base import Hook, HookError, InvalidArgs
from adapters.remediation.hooks.command import CommandTimeout
from adapters.remediation.ratelimit import RateLimiter
from adapters.remediation.registry import HookFactory, discover_hooks
from engine.firing import ActionRequest, Firing


class Remediator:
    """``handle(firing)`` returns one AuditRecord per ActionRequest, in order."""

    def __init__(self, config: RemediationConfig, audit_path: Path | None,
                 *, hooks: dict[str, HookFactory] | None = None,
                 max_ids: int = 100_000) -> None:
        self.config = config
        self.audit = AuditLog(audit_path)
        if hooks is None:
            hooks, self.load_errors = discover_hooks()
        else:
            self.load_errors = {}
        self._factories = hooks
        self._hooks: dict[str, Hook] = {}
        self._limiter = RateLimiter()
        #: arguments over these are refused (a cut id would name another resource) and
        #: shown cut in the audit log, which must stay bounded too
        self.limits = FieldLimits()
        self._done: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.max_ids = max_ids
        unknown = set(config.enforce) - set(hooks)
        if unknown:
            raise ValueError(f"enforce lists hooks that are not installed: {sorted(unknown)}")

    @property
    def hook_names(self) -> list[str]:
        return sorted(self._factories)

    def handle(self, firing: Firing) -> list[AuditRecord]:
        records = [self._one(firing, i, req) for i, req in enumerate(firing.actions)]
        for record in records:
            self.audit.write(record)
        return records

    def _hook(self, name: str) -> Hook | None:
        with self._lock:
            if name not in self._hooks and name in self._factories:
                self._hooks[name] = self._factories[name](self.config)
            return self._hooks.get(name)

    def _first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._done:
                return False
            self._done[key] = None
            if len(self._done) > self.max_ids:
                self._done.popitem(last=False)
            return True

    def _one(self, firing: Firing, index: int, req: ActionRequest) -> AuditRecord:
        enforced = req.mode == "enforce" and req.hook in self.config.enforce
        base: dict[str, Any] = {
            "time": datetime.now(UTC), "event_time": firing.time, "firing_id": firing.id,
            "rule": firing.rule, "title": firing.title, "hook": req.hook, "target": "",
            "args": self.limits.bound(dict(req.args)), "requested_mode": req.mode,
            "enforced": False,
        }

        def record(outcome: Outcome, reason: str, **extra: Any) -> AuditRecord:
            return AuditRecord(**{**base, "outcome": outcome, "reason": reason, **extra})

        hook = self._hook(req.hook)
        if hook is None:
            why = self.load_errors.get(req.hook, "no such hook installed")
            return record("invalid", f"unknown hook {req.hook!r}: {why}")
        too_big = self.limits.oversized(req.args)
        if too_big is not None:
            return record("invalid", f"argument {too_big} is over the field limits "
                          f"({self.limits.max_field} characters, {self.limits.max_items} "
                          "items): refused, not cut")
        try:
            args = hook.validate(dict(req.args))
        except InvalidArgs as exc:
            return record("invalid", str(exc))
        base["args"], base["target"] = args, hook.target(args)
        if not self._first_time(f"{firing.id}#{index}#{req.hook}"):
            return record("duplicate", "this firing's action was already handled")
        per_hook, per_target = self.config.limits_for(req.hook)
        full = self._limiter.admit(
            [(f"hook:{req.hook}", per_hook), (f"target:{req.hook}:{base['target']}", per_target)],
            firing.time.timestamp())
        if full is not None:
            which = per_hook if full.startswith("hook:") else per_target
            return record("rate-limited",
                          f"limit {which.count} per {which.per:g}s reached for {full}")
        if not enforced:
            why = ("the rule asked for dry-run" if req.mode != "enforce" else
                   f"enforcement of {req.hook} is not enabled in this deployment")
            return record("dry-run", why, result=hook.describe(args))
        return self._run(hook, args, record)

    def _run(self, hook: Hook, args: dict[str, Any],
             record: Callable[..., AuditRecord]) -> AuditRecord:
        timeout = self.config.timeout_for(hook.name)
        outcome: list[Any] = []

        def work() -> None:
            try:
                outcome.append(("done", hook.run(args, timeout)))
            except CommandTimeout as exc:
                outcome.append(("timeout", str(exc)))
            except HookError as exc:
                outcome.append(("failed", str(exc)))
            except Exception as exc:  # a hook bug is a failed action, not a dead worker
                outcome.append(("failed", f"{type(exc).__name__}: {exc}"))

        start = time.perf_counter()
        thread = threading.Thread(target=work, name=f"hook-{hook.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        took = (time.perf_counter() - start) * 1000
        if not outcome:
            return record("timeout",
                          f"no answer within {timeout:g}s (the call may still complete)",
                          enforced=True, duration_ms=took)
        status, detail = outcome[0]
        if status == "done":
            return record("done", "enforced: rule and deployment both opted in",
                          enforced=True, result=detail, duration_ms=took)
        return record(status, detail, enforced=True, duration_ms=took)
