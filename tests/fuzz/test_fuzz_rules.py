"""Fuzz the rule loader: every file is rules, or refusals naming file and line.

From the shipped rule files, mutated (a character inserted, a span deleted or
duplicated, control characters, deep nesting, aliases of aliases, template
syntax), ``load_rule_file`` with ``validate``'s check either returns rules or
raises ``RuleErrors`` whose every error has the file and a line in it; nothing
else escapes, and no file takes long.
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from dreamcatcher.catalogue import shipped_catalogue
from engine.loader import RuleErrors, load_rule_file, rule_files
from engine.rulecheck import rule_check
from tests.fuzz.settings import FUZZ
from tests.paths import REPO

SHIPPED = [path.read_text(encoding="utf-8") for path in rule_files([REPO / "rules"])]
CHECK = rule_check(shipped_catalogue())
PATH = Path("fuzzed.yaml")
PIECES = st.sampled_from([
    "\x00", "\x1f", "\x7f", "\ufeff", "\u2028", "\t", "\n", "\r", ":", "- ", "{", "}", "[", "]",
    "&a ", "*a", "!!python/object:os.system", "!!binary", "{{", "}}", "{%", "%}", "**",
    "{{ 9**9**9 }}", "{% for x in y %}", "{% endfor %}", "'", '"', "#", "---", "...",
    "{not: " * 60, "[" * 80, "{{" + "(" * 50, "&b [*a,*a,*a,*a]", "<<: *a", "? ",
    "9999-12-31", "1e999", "0x" + "f" * 40])


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SHIPPED))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if action == "insert":
            piece = draw(PIECES | st.text(max_size=8))
            text = text[:at] + piece + text[at:]
        else:
            end = min(len(text), at + draw(st.integers(1, 200)))
            text = text[:at] + (text[at:end] * 2 if action == "duplicate" else "") + text[end:]
    return text


@FUZZ
@given(_mutated() | st.text(max_size=400))
def test_every_rule_file_is_rules_or_refusals_with_file_and_line(text: str) -> None:
    started = time.monotonic()
    lines = text.count("\n") + 1
    try:
        load_rule_file(PATH, text=text, check=CHECK)
    except RuleErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.path == str(PATH) and 1 <= error.line <= lines, error
            assert str(error).startswith(f"{PATH}:{error.line}: ") and "\n" not in error.message
    assert time.monotonic() - started < 2.0
