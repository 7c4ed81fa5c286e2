"""Alert and action templates: sandboxed Jinja2, compiled once per rule.

The sandbox refuses attribute tricks that reach Python internals, so a rule
file can format text but never run code. Alert text (title, text) shows an
absent value (a missing fact field, a None envelope field) as ``?``, never as
an empty hole; labels and action arguments get ``""`` for it, so a hook sees
an empty value (and refuses it) rather than ``?`` or ``None`` as a resource id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jinja2 import ChainableUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.templatebounds import RuleSandbox, compile_bounded


def _human_bytes(value: Any) -> str:
    try:
        size = float(value)
    except (TypeError, ValueError):
        return str(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _duration(value: Any) -> str:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return str(value)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def utc_stamp(when: datetime) -> str:
    """``2026-12-02 10:41:07 UTC``: how people read a time, in alerts and on the terminal
    (event time is UTC, and saying so saves guessing); a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _isotime(value: Any) -> str:
    if isinstance(value, int | float):
        try:
            value = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # a tenant's number, not a time
            return str(value)
    if isinstance(value, datetime):
        return utc_stamp(value)
    return str(value)


class Absent(ChainableUndefined):
    """A name or field the firing does not have: ``?`` when printed.

    An inline ``if`` without ``else`` that is false is undefined too, but has no
    name (``{{ ', ' if not loop.last }}``): that one stays empty.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return "" if self._undefined_name is None else "?"


def _question_none(value: Any) -> Any:
    return "?" if value is None else value


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def make_environment(
    undefined: type[Undefined] = ChainableUndefined,
    finalize: Callable[[Any], Any] | None = None,
) -> ImmutableSandboxedEnvironment:
    """The sandbox with the rule filters; the validator builds one with its own ``undefined``."""
    env = RuleSandbox(
        undefined=undefined, finalize=finalize, autoescape=False, keep_trailing_newline=False
    )
    env.filters["bytes"] = _human_bytes
    env.filters["duration"] = _duration
    env.filters["isotime"] = _isotime
    return env


#: alert title and text: absent values print as ``?``
ENV = make_environment(Absent, _question_none)
#: labels and action arguments: absent values are ``""`` (a hook refuses an empty id)
VALUE_ENV = make_environment(ChainableUndefined, _blank_none)
Render = Callable[[dict[str, Any]], str]


def template_context(values: dict[str, Any]) -> dict[str, Any]:
    """The variables of one firing with the environment's globals, built once.

    Every template of the firing (title, text, labels, action arguments)
    renders against this same mapping, not a fresh copy each.
    """
    return {**ENV.globals, **values}


def compile_template(source: str, env: ImmutableSandboxedEnvironment = ENV) -> Render:
    """Compile once; raises ``TemplateSyntaxError`` for bad syntax or a template over the
    bounds of ``engine.templatebounds`` (caught by the loader).

    The returned function takes a mapping made by ``template_context``. ``env`` is
    ``ENV`` for alert text, ``VALUE_ENV`` for labels and action arguments.
    """
    if "{" not in source:
        return lambda _ctx: source
    template = compile_bounded(env, source)  # within engine.templatebounds, or refused
    body = template.root_render_func

    def render(ctx: dict[str, Any]) -> str:
        try:
            return "".join(body(template.new_context(ctx, shared=True))).strip()
        except Exception as exc:  # a runtime problem (tenant data too) must not lose the alert
            return f"{source} [template error: {exc}]"

    return render


def compile_value(value: Any) -> Callable[[dict[str, Any]], Any]:
    """Templated action arguments: strings render, containers recurse, others stay."""
    if isinstance(value, str):
        return compile_template(value, VALUE_ENV)
    if isinstance(value, dict):
        items = {k: compile_value(v) for k, v in value.items()}
        return lambda ctx: {k: f(ctx) for k, f in items.items()}
    if isinstance(value, list):
        parts = [compile_value(v) for v in value]
        return lambda ctx: [f(ctx) for f in parts]
    return lambda _ctx: value
