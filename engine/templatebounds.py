"""What a rule's template may cost: its size, its nesting, its arithmetic, its compile time.

A rule file is trusted to format text, not to spend the worker's CPU or stack:
``{{`` and 300 ``{`` overflowed the parser's recursion, ``{{ 99999999999999999999**99999 }}``
was folded to a constant at compile time (10 s, then a ValueError printing it), and
``"x" * 10**9`` would build a gigabyte at render time. The sandbox here
(``RuleSandbox``) intercepts ``**`` and ``*`` (which also stops their constant
folding) and refuses results past the bounds; ``checked_source`` refuses an
oversized or too deeply nested template, and a constant power too large, before
compiling, with the template's line.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: Characters of one template (the shipped rules' longest text is about 1 KB).
MAX_TEMPLATE_CHARS = 32 * 1024
#: Brackets inside expressions and blocks inside blocks: each is a level of recursion
#: in Jinja's parser and code generator.
MAX_TEMPLATE_NESTING = 30
#: Bits of an integer a power may make (about 3,000 digits: under Python's 4,300-digit
#: limit on printing one).
MAX_POWER_BITS = 10_000
#: Items (characters, list elements) a ``*`` may make of a string or list.
MAX_REPEAT = 100_000
#: Seconds one template may take to compile (enforced on the main thread, by SIGALRM).
MAX_COMPILE_SECONDS = 2.0

_BLOCKS = frozenset({"if", "for", "macro", "call", "filter", "with", "block",
                     "autoescape", "trans"})


def _power_bits(left: Any, right: Any) -> int:
    """An upper bound of the bits of ``left ** right`` for ints (0 for anything else)."""
    if type(left) is not int or type(right) is not int or right <= 1 or left in (0, 1, -1):
        return 0
    return left.bit_length() * right


def check_binop(operator: str, left: Any, right: Any) -> str | None:
    """Why ``left <operator> right`` is refused, or None."""
    if operator == "**":
        bits = _power_bits(left, right)
        if bits > MAX_POWER_BITS:
            return f"a power of about {bits} bits is over the {MAX_POWER_BITS}-bit bound"
    elif operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and type(times) is int \
                    and len(seq) * times > MAX_REPEAT:
                return f"repeating {len(seq)} items {times} times is over {MAX_REPEAT}"
    return None


class RuleSandbox(ImmutableSandboxedEnvironment):
    """The sandbox rule templates run in: ``**`` and ``*`` are checked (``check_binop``)."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        reason = check_binop(operator, left, right)
        if reason is not None:
            raise SecurityError(reason)
        return super().call_binop(context, operator, left, right)


def checked_source(env: ImmutableSandboxedEnvironment, source: str) -> nodes.Template:
    """``source`` parsed, refused with a ``TemplateSyntaxError`` (line included) when over
    the size or nesting bound or holding a constant power or repeat over its bound.
    A long flat chain (``a.b.b.b...``, ``1+1+1...``) still nests in the tree: the
    caller turns a ``RecursionError`` into a refusal too (``compile_bounded``)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateSyntaxError(
            f"template of {len(source)} characters is over the {MAX_TEMPLATE_CHARS} bound", 1)
    depth = blocks = 0
    block_name_next = False
    for lineno, kind, value in env.lex(source):  # the lexer is a loop, not a recursion
        if kind == "operator":
            if value in "([{":
                depth += 1
                if depth > MAX_TEMPLATE_NESTING:
                    raise TemplateSyntaxError(
                        f"template nests deeper than {MAX_TEMPLATE_NESTING} brackets", lineno)
            elif value in ")]}":
                depth -= 1
        elif kind == "whitespace":
            continue
        elif kind == "name" and block_name_next:
            if value in _BLOCKS:
                blocks += 1
                if blocks > MAX_TEMPLATE_NESTING:
                    raise TemplateSyntaxError(
                        f"template nests deeper than {MAX_TEMPLATE_NESTING} blocks", lineno)
            elif value.startswith("end"):
                blocks -= 1
        block_name_next = kind == "block_begin"
    tree = env.parse(source)
    for node in tree.find_all((nodes.Pow, nodes.Mul)):
        _check_constant(node)
    return tree


def _check_constant(node: nodes.BinExpr) -> None:
    if not (isinstance(node.left, nodes.Const) and isinstance(node.right, nodes.Const)):
        return
    reason = check_binop(node.operator, node.left.value, node.right.value)
    if reason is not None:
        raise TemplateSyntaxError(reason, node.lineno)


class _TookTooLong(Exception):
    pass


@contextmanager
def time_bound(seconds: float = MAX_COMPILE_SECONDS) -> Iterator[None]:
    """A ``TemplateSyntaxError`` if the block takes longer than ``seconds``; on the main
    thread only (SIGALRM), elsewhere (a reload on the engine thread) the size, nesting
    and arithmetic bounds are what bound it."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # someone else's timer runs
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise _TookTooLong

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TookTooLong:
        raise TemplateSyntaxError(f"template took over {seconds:g}s to compile", 1) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compile_bounded(env: ImmutableSandboxedEnvironment, source: str) -> Template:
    """``env.from_string(source)`` within every bound above, or a ``TemplateSyntaxError``."""
    try:
        with time_bound():
            return env.from_string(checked_source(env, source))
    except RecursionError:
        raise TemplateSyntaxError("template expression nests too deeply", 1) from None
