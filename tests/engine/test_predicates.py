"""Every `where` operator, true and false, on real-looking events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.events import Event
from engine.paths import event_getter
from engine.predicates import CompileError, compile_where

EVENT = Event(
    id="e1", type="nova.api.request", time=datetime(2026, 3, 1, tzinfo=UTC), host="cmp1",
    data={"status": 503, "duration": "61.2", "flag": True, "path": "/v2.1/servers/detail",
          "tags": ["a", "b"], "headers": {"x": 1}},
)

CASES: list[tuple[dict[str, Any], bool]] = [
    ({"host": "cmp1"}, True),
    ({"host": {"eq": "cmp2"}}, False),
    ({"host": {"ne": "cmp2"}}, True),
    ({"data.status": {"in": [500, 503]}}, True),
    ({"data.status": {"not_in": [500, 503]}}, False),
    ({"data.tags": {"in": ["a"]}}, False),  # an unhashable value is in no set
    ({"data.status": {"gte": 500}}, True),
    ({"data.status": {"gt": 503}}, False),
    ({"data.status": {"lt": 503.5}}, True),
    ({"data.status": {"lte": 502}}, False),
    ({"data.duration": {"gt": 60}}, True),  # a numeric string counts as its number
    ({"data.flag": {"gt": 0}}, False),  # a bool is not a number
    ({"data.missing": {"gt": 0}}, False),
    ({"data.path": {"startswith": ["/v2", "/v3"]}}, True),
    ({"data.path": {"endswith": "/show"}}, False),
    ({"data.path": {"contains": "servers"}}, True),
    ({"data.tags": {"contains": "b"}}, True),
    ({"data.headers": {"contains": "y"}}, False),
    ({"data.status": {"contains": "5"}}, False),
    ({"data.path": {"regex": r"servers/\w+$"}}, True),
    ({"data.status": {"regex": "503"}}, False),  # regex only tests strings
    ({"data.path": {"exists": True}}, True),
    ({"data.nope": {"exists": False}}, True),
    ({"data.status": {"gte": 500, "lt": 600}}, True),
    ({"data.status": {"gte": 500, "lt": 503}}, False),
    ({"any": [{"host": "x"}, {"data.status": 503}]}, True),
    ({"all": [{"host": "cmp1"}, {"data.status": 500}]}, False),
    ({"not": {"host": "cmp1"}}, False),
    ({"host": "cmp1", "data.status": {"gte": 500}, "data.flag": True}, True),
]


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[str(w) for w, _ in CASES])
def test_operator(where: dict[str, Any], expected: bool) -> None:
    predicate = compile_where(where, event_getter)
    assert predicate is not None
    assert predicate(EVENT.__dict__) is expected


def test_bad_bounds_name_the_operator() -> None:
    with pytest.raises(CompileError) as err:
        compile_where({"data.status": {"gte": "lots"}}, event_getter)
    assert err.value.loc == ("where", "data.status", "gte")
