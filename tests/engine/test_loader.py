"""A bad rule file is refused with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loader import RuleErrors, load_rule_file, load_rules

GOOD = """\
rule: ok
severity: info
when:
  event: compute.instance.*
alert:
  title: "{{ event.instance_id }}"
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(RuleErrors) as info:
        load_rule_file("r.yaml", text)
    return [str(e) for e in info.value.errors]


def test_good_rule_loads() -> None:
    [item] = load_rule_file("r.yaml", GOOD)
    assert item.rule.rule == "ok"


def test_unknown_key_is_an_error_at_its_line() -> None:
    text = GOOD.replace("  event: compute.instance.*\n",
                        "  event: compute.instance.*\n  wehre: {x: 1}\n")
    assert errors_of(text) == ["r.yaml:5: when.wehre: unknown key"]


def test_bad_severity_names_line_and_field() -> None:
    [error] = errors_of(GOOD.replace("severity: info", "severity: urgent"))
    assert error.startswith("r.yaml:2: severity: Input should be 'info', 'warning' or 'critical'")


def test_missing_required_key() -> None:
    [error] = errors_of(GOOD.replace('  title: "{{ event.instance_id }}"\n', "  text: hi\n"))
    assert error == "r.yaml:5: alert.title: required key is missing"


def test_bad_duration_in_operator() -> None:
    text = """\
rule: c
severity: warning
when:
  count:
    event: x
    at_least: 3
    within: ten minutes
alert: {title: t}
"""
    [error] = errors_of(text)
    assert error.startswith("r.yaml:7: when.count.within:")
    assert "not a duration" in error


def test_unknown_where_operator_points_at_it() -> None:
    text = GOOD.replace("  event: compute.instance.*\n",
                        "  event: compute.instance.*\n  where:\n    host: {startwith: cmp}\n")
    [error] = errors_of(text)
    assert error.startswith("r.yaml:6: when.where.host.startwith: unknown operator `startwith`")


def test_bad_regex_and_bad_template_are_caught_at_load() -> None:
    bad_regex = GOOD.replace("  event: compute.instance.*\n",
                             "  event: x\n  where:\n    host: {regex: '(unclosed'}\n")
    assert "when.where.host.regex: bad regex" in errors_of(bad_regex)[0]
    bad_template = GOOD.replace('"{{ event.instance_id }}"', '"{{ event.instance_id "')
    assert errors_of(bad_template)[0].startswith("r.yaml:6: alert.title: template error")


def test_two_operators_at_once_is_refused() -> None:
    text = GOOD.replace("  event: compute.instance.*\n",
                        "  event: a\n  count: {event: b, at_least: 2, within: 1m}\n")
    assert "exactly one of event, count, sequence, expect" in errors_of(text)[0]


def test_duplicate_yaml_key_is_an_error() -> None:
    [error] = errors_of(GOOD + "severity: critical\n")
    assert error == "r.yaml:7: severity: duplicate key (first at line 2)"


def test_invalid_yaml_reports_line() -> None:
    [error] = errors_of("rule: x\nseverity: [info\n")
    assert error.startswith("r.yaml:3: invalid YAML")


def test_enforce_must_be_spelled_out_and_defaults_to_dry_run() -> None:
    [item] = load_rule_file("r.yaml", GOOD + "actions:\n  - hook: port.disable\n")
    assert item.rule.actions[0].mode == "dry-run"
    [error] = errors_of(GOOD + "actions:\n  - hook: port.disable\n    mode: force\n")
    assert error.startswith("r.yaml:9: actions[0].mode:")


def test_all_errors_of_all_files_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    (tmp_path / "c.yaml").write_text(GOOD.replace("severity: info", "severity: no"))
    (tmp_path / "a.test.yaml").write_text("not: a rule")  # rule tests are skipped
    with pytest.raises(RuleErrors) as info:
        load_rules(tmp_path)
    messages = [str(e) for e in info.value.errors]
    assert len(messages) == 2
    assert any("b.yaml:1: rule: duplicate rule id 'ok'" in m for m in messages)
    assert any("c.yaml:2: severity" in m for m in messages)


def test_template_sandbox_refuses_python_internals() -> None:
    from engine.templates import compile_template

    render = compile_template("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    out = render({})
    assert "template error" in out
    assert "subclasses" not in out.replace("{{ ''.__class__.__mro__[1].__subclasses__() }}", "")
