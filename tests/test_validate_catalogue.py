"""``validate`` refuses what can never work, at its file, line and field.

Rules go through ``load_rules`` with the shipped catalogue's check, as
``dreamcatcher validate`` runs it; the CLI itself is driven once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamcatcher.catalogue import shipped_catalogue
from dreamcatcher.cli import main
from dreamcatcher.resources import shipped_rules
from engine.loader import RuleErrors, load_rules
from engine.rulecheck import RuleCheck, rule_check

ROOT = Path(__file__).resolve().parents[1]
DHCP_EXPECT = """\
rule: lease
severity: warning
when:
  expect:
    first: {event: %(first)s}
    then: {event: dnsmasq.dhcp.ack}
    within: 2m
    by: [%(by)s]
alert:
  title: "DHCP lease lost"
  text: >-
    lease request on
    {{ %(var)s.interface }} from {{ event.mac }}
"""


@pytest.fixture(scope="module")
def check() -> RuleCheck:
    return rule_check(shipped_catalogue())


def _errors(tmp_path: Path, text: str, check: RuleCheck) -> list[str]:
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    try:
        load_rules(path, check=check)
    except RuleErrors as exc:
        return [str(e).replace(str(path), "rule.yaml") for e in exc.errors]
    return []


def _dhcp(first: str = "dnsmasq.dhcp.request", by: str = "mac", var: str = "event") -> str:
    return DHCP_EXPECT % {"first": first, "by": by, "var": var}


def test_the_good_rule_passes(tmp_path: Path, check: RuleCheck) -> None:
    assert _errors(tmp_path, _dhcp(), check) == []


def test_an_event_type_nothing_produces(tmp_path: Path, check: RuleCheck) -> None:
    assert _errors(tmp_path, _dhcp(first="dnsmasq.dhcp.reqest"), check) == [
        "rule.yaml:5: when.expect.first.event: no parser or mapping produces event type"
        " 'dnsmasq.dhcp.reqest' (did you mean 'dnsmasq.dhcp.request'?); a site's own events"
        " can be listed under `declare.events`"]


def test_a_by_field_no_matching_type_has(tmp_path: Path, check: RuleCheck) -> None:
    errors = _errors(tmp_path, _dhcp(by="macc"), check)
    prefix = "rule.yaml:8: when.expect.by[0]: no event type it matches"
    assert errors == [
        f"{prefix} (dnsmasq.dhcp.request) has a field 'macc' (did you mean 'mac'?)",
        f"{prefix} (dnsmasq.dhcp.ack) has a field 'macc' (did you mean 'mac'?)",
    ]


def test_an_undefined_template_variable(tmp_path: Path, check: RuleCheck) -> None:
    assert _errors(tmp_path, _dhcp(var="evnt"), check) == [
        "rule.yaml:11: alert.text: template: 'evnt' is not defined for this rule (defined:"
        " event, first, events, count, stats, key, rule, fired_at) (did you mean 'event'?)"]


def test_a_template_field_no_matching_type_has(tmp_path: Path, check: RuleCheck) -> None:
    text = _dhcp().replace("event.mac }}", "event.macc }}")
    assert _errors(tmp_path, text, check) == [
        "rule.yaml:11: alert.text: template: no event type it matches (dnsmasq.dhcp.request)"
        " has a field 'macc' (did you mean 'mac'?)"]


def test_the_cli_refuses_each_of_the_three(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    for name, text in (("type", _dhcp(first="dnsmasq.dhcp.reqest")), ("by", _dhcp(by="macc")),
                       ("var", _dhcp(var="evnt"))):
        (tmp_path / f"{name}.yaml").write_text(text.replace("rule: lease", f"rule: {name}"))
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'type.yaml'}:5: when.expect.first.event: no parser" in err
    assert f"{tmp_path / 'by.yaml'}:8: when.expect.by[0]: no event type" in err
    assert f"{tmp_path / 'var.yaml'}:11: alert.text: template: 'evnt' is not defined" in err


def test_validate_and_test_without_paths_check_the_shipped_pack(
        capsys: pytest.CaptureFixture[str]) -> None:
    shipped = len(list(shipped_rules().glob("*.yaml"))) - len(list(
        shipped_rules().glob("*.test.yaml")))
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == f"{shipped} rules OK\n"
    assert main(["test"]) == 0
    assert capsys.readouterr().out.endswith(" passed, 0 failed\n")


def test_a_glob_that_matches_nothing(tmp_path: Path, check: RuleCheck) -> None:
    rule = ("rule: g\nseverity: info\nwhen:\n"
            "  event: ['compute.instanse.*', 'compute.instance.*']\nalert: {title: x}\n")
    assert _errors(tmp_path, rule, check) == [
        "rule.yaml:4: when.event[0]: glob 'compute.instanse.*' matches no event type a parser"
        " or mapping produces"]


def test_a_typo_under_a_notification_glob_is_caught(tmp_path: Path, check: RuleCheck) -> None:
    rule = ("rule: g\nseverity: info\nwhen:\n  event: compute.instance.create.strat\n"
            "alert: {title: x}\n")
    assert _errors(tmp_path, rule, check)[0].startswith(
        "rule.yaml:4: when.event: no parser or mapping produces event type"
        " 'compute.instance.create.strat' (did you mean 'compute.instance.create.start'?)")


def test_join_paths_and_fact_fields(tmp_path: Path, check: RuleCheck) -> None:
    rule = """\
rule: j
severity: info
when: {event: switch.stp.bpdu_guard}
join:
  port: {kind: port, by: {mac: event.mac}, where: {staus: ACTIVE}}
  instance: {kind: instance, by: {id: prot.device_id}}
alert:
  title: "{{ instance.name if instance else '?' }} {{ port.device_id | length }}"
  group_by: [port.device_idd]
actions:
  - hook: port.disable
    with: {port_id: "{{ port.idd }}"}
"""
    assert _errors(tmp_path, rule, check) == [
        "rule.yaml:5: join.port.where.staus: no source of port facts gives a field 'staus'"
        " (did you mean 'status'?); a site's own can be listed under `declare.facts`",
        "rule.yaml:6: join.instance.by.id: 'prot' is not defined here (defined: event, first,"
        " events, port, count, stats, key, rule, fired_at) (did you mean 'port'?)",
        "rule.yaml:9: alert.group_by[0]: no source of port facts gives a field 'device_idd'"
        " (did you mean 'device_id'?); a site's own can be listed under `declare.facts`",
        "rule.yaml:12: actions[0].with.port_id: template: no source of port facts gives a field"
        " 'idd' (did you mean 'id'?); a site's own can be listed under `declare.facts`",
    ]


def test_sequence_steps_where_and_stats(tmp_path: Path, check: RuleCheck) -> None:
    rule = """\
rule: s
severity: info
when:
  sequence:
    steps:
      - {event: cinder.api.volume_created}
      - {event: cinder.volume.volume_not_found, where: {data.mesage: {contains: x}}}
    within: 30m
    by: [request_id]
alert:
  title: "{{ events[0].message }} {{ stats.ratio }} {{ (event.size_gb or 1) | bytes }}"
"""
    assert _errors(tmp_path, rule, check) == [
        "rule.yaml:7: when.sequence.steps[1].where.data.mesage: no event type it matches"
        " (cinder.volume.volume_not_found) has a `data.mesage` (did you mean 'message'?)",
        "rule.yaml:11: alert.title: template: `stats` of this rule has no 'ratio' (it has:"
        " nothing)",
        "rule.yaml:11: alert.title: template: no event type it matches"
        " (cinder.volume.volume_not_found) has a field 'size_gb'",
    ]


def test_a_declared_custom_event(tmp_path: Path, check: RuleCheck) -> None:
    rule = """\
rule: custom
severity: info
declare:
  events:
    mysite.disk.full: [host, mount, percent]
  facts:
    host: [rack]
when:
  event: mysite.disk.full
  where: {percent: {gte: 95}}
join:
  node: {kind: host, by: {id: event.host}}
alert:
  title: "{{ event.mount }} on {{ event.host }} ({{ node.rack }}) at {{ event.percent }}%"
"""
    assert _errors(tmp_path, rule, check) == []
    undeclared = rule.replace("{{ event.mount }}", "{{ event.mountpoint }}")
    assert _errors(tmp_path, undeclared, check) == [
        "rule.yaml:14: alert.title: template: no event type it matches (mysite.disk.full) has"
        " a field 'mountpoint' (did you mean 'mount'?)"]
    without = rule.replace(rule[rule.index("declare:"):rule.index("when:")], "")
    assert _errors(tmp_path, without, check) == [
        "rule.yaml:4: when.event: no parser or mapping produces event type 'mysite.disk.full';"
        " a site's own events can be listed under `declare.events`",
        "rule.yaml:9: alert.title: template: no source of host facts gives a field 'rack';"
        " a site's own can be listed under `declare.facts`",
    ]


def test_load_rules_without_a_check_accepts_any_type(tmp_path: Path) -> None:
    """replay, run and rule tests feed events from anywhere: no catalogue there."""
    path = tmp_path / "rule.yaml"
    path.write_text(_dhcp(first="test.made.up", by="macc", var="evnt"))
    assert [r.rule for r in load_rules(path)] == ["lease"]


@pytest.mark.parametrize("folder", [shipped_rules(), ROOT / "tests" / "operator_rules",
                                    ROOT / "bench" / "pack", ROOT / "bench" / "rules"])
def test_shipped_and_bench_rules_validate_clean(folder: Path, check: RuleCheck) -> None:
    assert load_rules(folder, check=check)
