"""A rule file cannot attack the loader: each probe is one ``file:line`` error, in time.

``dreamcatcher validate`` on each: a control character, a 2,000-deep ``where``, a
title of ``{{`` and 300 ``{``, a constant power of 10^20 to the 99,999th, and a
500-byte alias bomb (the last one through a subprocess: before the bound it ran
for minutes). Each must end in one line naming the file, the line and the
reason, with status 1, in well under a second of work.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from jinja2 import TemplateSyntaxError

from dreamcatcher.cli import main
from engine.templatebounds import time_bound
from engine.templates import compile_template, template_context
from tests.paths import REPO

RULE = """\
rule: probe
summary: s
severity: warning
when: {{event: compute.instance.create.start{where}}}
alert:
  title: "{title}"
"""
ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}' if prev else '0'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi", strict=True)
) + "rule: probe\nsummary: s\nseverity: warning\nwhen: {event: x}\nalert: {title: t}\n"


def _rule(title: str = "t", where: str = "") -> str:
    return RULE.format(title=title, where=where)


CASES = {
    "unit separator": (_rule("a\x1fb"), 6, "not YAML text: special characters are not allowed "
                       "(character #x001f)"),
    "nul": (_rule("a\x00b"), 6, "not YAML text: special characters are not allowed "
            "(character #x0000)"),
    "deep where": (_rule(where=", where: " + "{not: " * 2000 + "{host: x}" + "}" * 2000), 4,
                   "invalid YAML: nested deeper than 50 levels"),
    "deep all": ("when: " + "{all: [" * 2000 + "{event: x}" + "]}" * 2000 + "\n", 1,
                 "invalid YAML: nested deeper than 50 levels"),
    "braces": (_rule("{{" + "{" * 300), 6,
               "alert.title: template error: template nests deeper than 30 brackets"),
    "huge power": (_rule("{{ 99999999999999999999**99999 }}"), 6,
                   "alert.title: template error: a power of about 6699933 bits is over the "
                   "10000-bit bound"),
    "huge repeat": (_rule("{{ 'ab' * 999999999 }}"), 6,
                    "alert.title: template error: repeating 2 items 999999999 times is over "
                    "100000"),
    "alias cycle": ("a: &a [*a]\n" + _rule(), 1,
                    "invalid YAML: an alias inside the node it names (a cycle)"),
}


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One valid file validated first: the catalogue is loaded once, outside the timing."""
    path = tmp_path_factory.mktemp("warm") / "ok.yaml"
    path.write_text(_rule())
    assert main(["validate", str(path)]) == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_each_probe_on_one_line(case: str, tmp_path: Path, warm: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text, line, message = CASES[case]
    path = tmp_path / "probe.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    code = main(["validate", str(path)])
    took = time.monotonic() - started
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [f"{path}:{line}: {message}", "1 error"]
    assert took < 1.0


def test_validate_refuses_the_alias_bomb_in_under_a_second(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB.encode()) < 600
    (tmp_path / "warm.yaml").write_text(_rule())  # the catalogue loaded outside the timing
    code = ("import io, sys, time; from contextlib import redirect_stdout; "
            "from dreamcatcher.cli import main; "
            "redirect_stdout(io.StringIO()).__enter__(); main(['validate', sys.argv[2]]); "
            "t = time.monotonic(); c = main(['validate', sys.argv[1]]); "
            "print(f'{time.monotonic() - t:.3f}', file=sys.stderr); sys.exit(c)")
    done = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "warm.yaml")],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    *errors, took = done.stderr.splitlines()
    assert done.returncode == 1
    assert errors == [f"{path}:5: invalid YAML: aliases expand past 10000 nodes", "1 error"]
    assert float(took) < 1.0


def test_aliases_within_the_bound_still_work(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(_rule(where=", where: {any: [&w {host: c1}, *w, *w]}"))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_a_power_of_tenant_data_is_refused_at_render_not_computed() -> None:
    render = compile_template("{{ n ** 99999 }} and {{ s * n }} and {{ 2 ** 10 }}")
    started = time.monotonic()
    out = render(template_context({"n": 99999999999999999999, "s": "ab"}))
    assert time.monotonic() - started < 0.5
    assert out.endswith("[template error: a power of about 6699933 bits is over the "
                        "10000-bit bound]")
    assert compile_template("{{ 2 ** 10 }} {{ 'ab' * 3 }}")(template_context({})) == \
        "1024 ababab"


@pytest.mark.parametrize("source", [
    "{{ a" + ".b" * 3000 + " }}", "{{ " + "+".join(["1"] * 5000) + " }}",
    "{% if x %}" * 300 + "y" + "{% endif %}" * 300, "{{ x }}" * 5000])
def test_long_or_deep_templates_are_refused_not_a_recursion_error(source: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        compile_template(source)


def test_compilation_is_time_bounded() -> None:
    started = time.monotonic()
    with pytest.raises(TemplateSyntaxError, match=r"took over 0\.2s to compile"), \
            time_bound(0.2):
        while True:
            pass
    assert time.monotonic() - started < 1.0
