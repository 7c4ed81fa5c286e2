"""Inhibition by topology through the router, with firings from the shipped rules.

The engine runs the BPDU-guard and DHCP-lease-lost rules on the inventory of a
cut-off host; the router's notices at a recording sink are what is checked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.alerting.inhibit import Inhibitor
from adapters.alerting.notice import Notice
from adapters.alerting.router import Router
from adapters.alerting.silences import Silence, SilenceFile
from adapters.alerting.sinks.recording import RecordingSink
from engine.catalogue import Catalogue
from engine.engine import Engine
from engine.events import Event, FactUpdate
from engine.firing import Firing, Scope
from engine.loader import RuleErrors, load_rule_file, load_rules
from engine.reads import fact_fields
from engine.rulecheck import rule_check
from tests.paths import REPO

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
BPDU_MAC = "fa:16:3e:24:e7:22"
HOSTS = {"inst-centos": "compute-7", "inst-n1": "compute-7", "inst-n2": "compute-7",
         "inst-far": "compute-9"}
MACS = {"inst-centos": BPDU_MAC, "inst-n1": "fa:16:3e:00:00:a1",
        "inst-n2": "fa:16:3e:00:00:a2", "inst-far": "fa:16:3e:00:00:f1"}


def engine() -> Engine:
    rules = load_rules([REPO / "rules" / "bpdu-guard-trip.yaml",
                        REPO / "rules" / "dhcp-lease-lost.yaml"])
    e = Engine(rules, lateness=5.0)
    facts = []
    for inst, host in HOSTS.items():
        facts.append(FactUpdate(kind="instance", id=inst,
                                fields={"name": inst[5:], "host": host, "state": "active"}))
        facts.append(FactUpdate(kind="port", id=f"port-{inst}",
                                fields={"mac": MACS[inst], "device_id": inst, "host": host}))
    e.load_facts(facts)
    return e


def bpdu(at: float) -> Event:
    return Event(id=f"bpdu-{at}", type="switch.stp.bpdu_guard", time=T0 + timedelta(seconds=at),
                 host="SW-1", mac=BPDU_MAC, data={"switch": "SW-1", "interface": "Po35"})


def dhcp_request(inst: str, at: float) -> Event:
    return Event(id=f"req-{inst}-{at}", type="dnsmasq.dhcp.request",
                 time=T0 + timedelta(seconds=at), host="net-1", mac=MACS[inst],
                 data={"ip": "10.0.0.9"})


def run(events: list[Event], silences: SilenceFile | None = None,
        ) -> tuple[list[Firing], list[Notice]]:
    sink = RecordingSink()
    router = Router([sink], silences=silences)
    e = engine()
    firings: list[Firing] = []
    for event in events:
        firings.extend(e.process(event))
    firings.extend(e.drain())
    for firing in firings:
        router.submit(firing)
    router.close(5)
    return firings, sink.notices


def test_the_cut_off_hosts_dhcp_losses_fold_into_the_bpdu_notice() -> None:
    firings, notices = run([bpdu(0), dhcp_request("inst-n1", 30), dhcp_request("inst-n2", 40)])
    assert sorted(f.rule for f in firings) == ["bpdu-guard-trip", "dhcp-lease-lost",
                                               "dhcp-lease-lost"]
    assert [(n.kind, n.firing.rule) for n in notices] == [
        ("firing", "bpdu-guard-trip"), ("update", "bpdu-guard-trip"),
        ("update", "bpdu-guard-trip")]
    last = notices[-1]
    assert [a.group_key for a in last.also] == ["dhcp-lease-lost|fa:16:3e:00:00:a1",
                                                "dhcp-lease-lost|fa:16:3e:00:00:a2"]
    assert "also affected: dhcp-lease-lost: DHCP lease lost: n1" in last.footer()
    assert f"group bpdu-guard-trip|{BPDU_MAC}" in last.footer()  # what an ack takes
    assert last.as_json()["also_affected"][1]["rule"] == "dhcp-lease-lost"
    assert len({n.id for n in notices}) == 3  # each update is a notice of its own


def test_another_hosts_dhcp_loss_still_pages() -> None:
    _, notices = run([bpdu(0), dhcp_request("inst-far", 30)])
    assert [(n.kind, n.firing.rule) for n in notices] == [
        ("firing", "bpdu-guard-trip"), ("firing", "dhcp-lease-lost")]


def test_a_silenced_cause_still_explains(tmp_path: Any) -> None:
    store = SilenceFile(tmp_path / "s.json", poll=0.0)
    store.add(Silence(rule="bpdu-guard-trip", starts_at=T0, ends_at=T0 + timedelta(hours=1)))
    _, notices = run([bpdu(0), dhcp_request("inst-n1", 30)], store)
    assert notices == []


def _firing(rule: str, key: str, at: float, *, resolves: bool = False,
            explains: list[Scope] | None = None, labels: dict[str, str] | None = None,
            n: int = 0) -> Firing:
    return Firing(id=f"{rule}-{key}-{at}-{n}-{resolves}", rule=rule, severity="warning",
                  time=T0 + timedelta(seconds=at), title=f"{rule} {key}",
                  labels=labels or {"host": key}, group_key=f"{rule}|{key}",
                  resolves=resolves, explains=explains or [], repeat_seconds=600.0)


CAUSE_SCOPE = Scope(rules=["svc-down"], labels={"host": "c7"}, within=1800.0, before=300.0)


def test_a_target_folded_from_the_start_sends_no_resolve_and_its_cause_lists_it() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("link-down", "c7", 0, explains=[CAUSE_SCOPE]))
    router.submit(_firing("svc-down", "c7", 10))
    router.submit(_firing("svc-down", "c7", 700, n=1))  # a repeat, due but folded
    router.submit(_firing("svc-down", "c7", 800, resolves=True))
    router.submit(_firing("link-down", "c7", 900, resolves=True))
    router.close(5)
    kinds = [(n.kind, n.firing.rule) for n in sink.notices]
    assert kinds == [("firing", "link-down"), ("update", "link-down"),
                     ("resolved", "link-down")]
    assert [a.describe() for a in sink.notices[-1].also] == ["svc-down: svc-down c7 (resolved)"]
    assert router.stats()["inhibited"] == 3


def test_when_the_cause_resolves_an_open_target_speaks_for_itself() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("link-down", "c7", 0, explains=[CAUSE_SCOPE]))
    router.submit(_firing("svc-down", "c7", 10))
    router.submit(_firing("link-down", "c7", 20, resolves=True))
    router.submit(_firing("svc-down", "c7", 30, n=1))
    router.close(5)
    assert [(n.kind, n.firing.rule) for n in sink.notices] == [
        ("firing", "link-down"), ("update", "link-down"), ("resolved", "link-down"),
        ("firing", "svc-down")]


def test_a_target_that_paged_just_before_is_adopted_its_repeats_folded_resolve_sent() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("svc-down", "c7", 0))
    router.submit(_firing("link-down", "c7", 120, explains=[CAUSE_SCOPE]))
    router.submit(_firing("svc-down", "c7", 700, n=1))  # its repeat is due: folded
    router.submit(_firing("svc-down", "c7", 800, resolves=True))
    router.close(5)
    assert [(n.kind, n.firing.rule) for n in sink.notices] == [
        ("firing", "svc-down"), ("firing", "link-down"), ("resolved", "svc-down")]
    assert [a.describe() for a in sink.notices[1].also] == [
        "svc-down: svc-down c7 (notified before)"]


def test_too_long_before_the_cause_is_not_adopted() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("svc-down", "c7", 0))
    router.submit(_firing("link-down", "c7", 301, explains=[CAUSE_SCOPE]))
    router.close(5)
    assert sink.notices[1].also == ()


def test_label_matchers_must_all_hold() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("link-down", "c7", 0, explains=[CAUSE_SCOPE]))
    router.submit(_firing("svc-down", "c8", 10))  # another host
    router.submit(_firing("disk-full", "c7", 20))  # another rule
    router.close(5)
    assert [n.firing.rule for n in sink.notices if n.kind == "firing"] == [
        "link-down", "svc-down", "disk-full"]


def test_causes_are_bounded() -> None:
    inhibit = Inhibitor(max_causes=2)
    for n in range(3):
        inhibit.cause(_firing("link-down", f"c{n}", n, explains=[CAUSE_SCOPE]), f"k{n}")
    assert inhibit.stats()["causes"] == 2


@pytest.mark.parametrize(("explains", "message"), [
    ("[{rules: [dhcp-lease-lost], within: 30m}]", "needs `equal` or `by`"),
    ("[{rules: [dhcp-lease-lost], by: {instance.id: port.id}, within: 30m}]",
     "a target path is labels.NAME or facts.JOIN.FIELD"),
    ("[{rules: [dhcp-lease-lost], by: {labels.host: port.host}}]", "within"),
    ("[{rules: [dhcp-lease-lost], equal: [host], within: soon}]", "not a duration"),
])
def test_a_bad_explains_is_refused_at_load_with_its_line(explains: str, message: str) -> None:
    text = (REPO / "rules" / "dhcp-lease-lost.yaml").read_text() + f"explains: {explains}\n"
    line = text.count("\n")
    with pytest.raises(RuleErrors) as caught:
        load_rule_file("x.yaml", text)
    error = str(caught.value)
    assert message in error and f"x.yaml:{line}" in error, error


def test_validate_checks_the_causes_paths() -> None:
    text = (REPO / "rules" / "dhcp-lease-lost.yaml").read_text() + (
        "explains: [{rules: [x], by: {labels.host: nowhere.host}, within: 5m}]\n")
    with pytest.raises(RuleErrors) as caught:
        load_rule_file("x.yaml", text, check=rule_check(Catalogue()))
    assert "'nowhere' is not defined here" in str(caught.value)


def test_a_glob_of_rules_and_a_by_join_explain_too() -> None:
    scope = Scope(rules=["*-down"], among={"labels.host": ["c7", "c8"]}, within=600.0)
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("link-cut", "c7", 0, explains=[scope]))
    router.submit(_firing("svc-down", "c8", 10))
    router.submit(_firing("disk-down", "c7", 20))
    router.submit(_firing("svc-down", "c9", 30))  # not among the cause's hosts
    router.submit(_firing("svc-down", "c7", 700, n=1))  # after `within`
    router.close(5)
    assert [(n.kind, n.firing.rule, n.firing.labels["host"]) for n in sink.notices] == [
        ("firing", "link-cut", "c7"), ("update", "link-cut", "c7"),
        ("update", "link-cut", "c7"), ("firing", "svc-down", "c9"),
        ("firing", "svc-down", "c7")]


def test_the_inventory_keeps_the_fact_fields_explains_reads() -> None:
    text = (REPO / "rules" / "bpdu-guard-trip.yaml").read_text().replace(
        "by: {labels.host: instance.host}", "by: {labels.flavor: neighbours.flavor}")
    [loaded] = load_rule_file("x.yaml", text)
    kept = fact_fields([loaded.rule])["instance"]
    assert kept is not None and "flavor" in kept


def test_a_target_already_resolved_is_not_adopted() -> None:
    sink = RecordingSink()
    router = Router([sink])
    router.submit(_firing("svc-down", "c7", 0))
    router.submit(_firing("svc-down", "c7", 30, resolves=True))
    router.submit(_firing("link-down", "c7", 60, explains=[CAUSE_SCOPE]))
    router.close(5)
    assert [(n.kind, n.firing.rule, n.also) for n in sink.notices] == [
        ("firing", "svc-down", ()), ("resolved", "svc-down", ()), ("firing", "link-down", ())]
