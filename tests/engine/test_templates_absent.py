"""Absent values: ``?`` in alert text, never an empty hole; ``""`` in labels and action args."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.compiler import compile_rule, render_firing
from engine.events import Event, FactUpdate
from engine.inventory import Inventory
from engine.memstore import MemoryStore
from engine.operators import Evidence
from engine.schema import Rule
from engine.templates import compile_template, compile_value, template_context

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _render(source: str, **values: object) -> str:
    return compile_template(source)(template_context(values))


def test_a_missing_fact_field_prints_a_question_mark() -> None:
    text = "project {{ i.project_id }}, user {{ i.user_id }})"
    assert _render(text, i={"id": "x"}) == "project ?, user ?)"


def test_none_undefined_and_chained_names_print_a_question_mark() -> None:
    assert _render("[{{ e.request_id }}]", e={"request_id": None}) == "[?]"
    assert _render("[{{ nothing }}]") == "[?]"
    assert _render("[{{ inst.name }}]", inst=None) == "[?]"  # an optional join found nothing


def test_conditionals_and_default_still_choose_their_text() -> None:
    assert _render("{{ i.name if i else 'unknown' }}", i=None) == "unknown"
    assert _render("{{ i.name | default('n/a') }}", i={}) == "n/a"
    assert _render("{{ i.state or 'gone' }}", i={"state": None}) == "gone"
    assert _render("{{ users | length }}", users=[]) == "0"


def test_an_inline_if_without_else_stays_empty() -> None:
    text = "{% for u in users %}{{ u }}{{ ', ' if not loop.last }}{% endfor %}."
    assert _render(text, users=["a", "b"]) == "a, b."


def test_action_arguments_get_an_empty_value_never_a_question_mark() -> None:
    render = compile_value({"port_id": "{{ port.id }}", "note": "{{ event.request_id }}"})
    assert render(template_context({"port": None, "event": {"request_id": None}})) == {
        "port_id": "", "note": ""}


def test_a_firing_renders_holes_as_question_marks_and_labels_as_empty() -> None:
    rule = Rule.model_validate({
        "rule": "r", "severity": "warning",
        "when": {"event": "switch.stp.bpdu_guard"},
        "join": {"instance": {"kind": "instance", "by": {"id": "event.instance_id"}}},
        "alert": {"title": "{{ instance.name }} (project {{ instance.project_id }},"
                           " request {{ event.request_id }})",
                  "labels": {"project": "{{ instance.project_id }}"}},
        "actions": [{"hook": "port.disable", "with": {"port_id": "{{ event.port_id }}"}}],
    })
    store = MemoryStore()
    compiled = compile_rule(rule, store, 0.0)
    inventory = Inventory(store, compiled.index_fields)
    inventory.apply(FactUpdate(kind="instance", id="i-1", fields={"name": "web-1"}), 0.0)
    event = Event(id="e", type="switch.stp.bpdu_guard", time=T0, instance_id="i-1")
    firing = render_firing(compiled, Evidence([event], (), T0.timestamp()), inventory)
    assert firing is not None
    assert firing.title == "web-1 (project ?, request ?)"
    assert firing.labels["project"] == ""
    assert firing.actions[0].args == {"port_id": ""}
