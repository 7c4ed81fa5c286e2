"""The condition index (engine.dispatch) against the plain scan it replaces.

Random rule sets (conditions of every operator, nested any/all/not, shared
parts, equalities that clash by hash such as 1, 1.0 and True) over random
events: the index must select exactly the matchers the scan selects, in order.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.dispatch import MIN_INDEXED, Dispatch, canonical_path, parts_of
from engine.paths import event_getter
from engine.predicates import compile_where

PATHS = ["host", "event.host", "data.host", "x", "data.x", "event.x", "y", "data.a.b", "a.0"]
SCALARS = st.one_of(
    st.sampled_from(["a", "ab", "abc", "b", "", "1"]),
    st.sampled_from([0, 1, 2, 1.0, 2.5, True, False, None]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=2),
                   st.dictionaries(st.sampled_from(["b", "c"]), SCALARS, max_size=2))
PREFIXES = st.sampled_from(["", "a", "ab", "b", "abc"])


def condition() -> st.SearchStrategy[Any]:
    ops = st.one_of(
        st.fixed_dictionaries({"eq": SCALARS}),
        st.fixed_dictionaries({"eq": st.lists(SCALARS, max_size=2)}),
        st.fixed_dictionaries({"ne": SCALARS}),
        st.fixed_dictionaries({"in": st.lists(SCALARS, max_size=3)}),
        st.fixed_dictionaries({"in": st.lists(st.lists(SCALARS, max_size=1), max_size=2)}),
        st.fixed_dictionaries({"not_in": st.lists(SCALARS, max_size=3)}),
        st.fixed_dictionaries({"startswith": st.one_of(PREFIXES, st.lists(PREFIXES, min_size=1,
                                                                           max_size=3))}),
        st.fixed_dictionaries({"gte": st.sampled_from([0, 1, 2])}),
        st.fixed_dictionaries({"exists": st.booleans()}),
        st.fixed_dictionaries({"eq": SCALARS, "ne": SCALARS}),
    )
    return st.one_of(SCALARS, ops)


WHERE = st.recursive(
    st.dictionaries(st.sampled_from(PATHS), condition(), max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(PATHS), condition(), max_size=2).flatmap(
            lambda base: st.fixed_dictionaries(
                {"all": st.lists(inner, min_size=1, max_size=2)}).map(
                lambda extra: {**base, **extra})),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=2)}),
        inner.filter(bool).map(lambda w: {"not": w}),
    ),
    max_leaves=6,
)

EVENT = st.fixed_dictionaries({
    "host": st.one_of(SCALARS, st.just("abcd")),
    "id": st.just("e"),
    "type": st.just("t"),
    "data": st.dictionaries(st.sampled_from(["host", "x", "y", "a"]),
                            st.one_of(VALUES, st.just("abcd")), max_size=4),
})


def _plain_equal(wheres: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    predicates = [compile_where(w, event_getter) for w in wheres]
    for least in (0, MIN_INDEXED):  # indexed however few, and as the engine builds it
        index = Dispatch([(i, w) for i, w in enumerate(wheres)], least)
        for values in events:
            assert index.matches(values) == index.scan(values, predicates), (wheres, values)


@settings(max_examples=400, deadline=None)
@given(st.lists(WHERE, max_size=12), st.lists(EVENT, min_size=1, max_size=6))
def test_index_selects_what_the_scan_selects(wheres: list[dict[str, Any]],
                                             events: list[dict[str, Any]]) -> None:
    _plain_equal(wheres, events)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", 1, 1.0, True]), min_size=1, max_size=40),
       st.lists(EVENT, min_size=1, max_size=6), WHERE)
def test_many_rules_on_one_path(values: list[Any], events: list[dict[str, Any]],
                                extra: dict[str, Any]) -> None:
    """Many matchers split by one field (a site's per-tenant rules), some sharing a part."""
    wheres = [{"data.x": v, **({"all": [extra]} if extra and i % 3 == 0 else {})}
              for i, v in enumerate(values)]
    _plain_equal(wheres, events)


def test_only_candidates_run() -> None:
    """Rules on other values of the indexed field are never tested."""
    calls: list[int] = []
    wheres = [{"x": f"v{i}", "y": {"gte": 1}} for i in range(100)]
    index = Dispatch([(i, w) for i, w in enumerate(wheres)])
    selected = index.select({"data": {"x": "v42", "y": 5}, "host": None})
    calls.extend(i for i, _ in selected)
    assert calls == [42]


def test_shared_part_runs_once_per_event() -> None:
    seen: list[Any] = []

    class Loud(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            seen.append(key)
            return super().get(key, default)

    wheres: list[dict[str, Any]] = [{"y": {"gte": 1}}, {"y": {"gte": 1}}, {"y": {"gte": 1}}]
    index = Dispatch([(i, w) for i, w in enumerate(wheres)])
    assert index.matches({"data": Loud(y=3), "host": None}) == [0, 1, 2]
    assert seen == ["y"]


def test_parts_and_paths() -> None:
    assert canonical_path("x") == canonical_path("data.x") == canonical_path("event.x")
    assert canonical_path("host") != canonical_path("data.host")
    parts = parts_of({"all": [{"a": 1}, {"b": {"gte": 1, "lt": 5}}], "any": [{"c": 1}]})
    assert [(p.path, p.op) for p in parts] == [
        (("data", "a"), "eq"), (("data", "b"), "gte"), (("data", "b"), "lt"), (None, None)]


def test_prefixes_of_every_length() -> None:
    """``startswith`` tables against every value, short and long, str or not."""
    prefixes: list[Any] = ["", "a", "ab", "b", "abc", ["a", "abc"], ["ab", "b"], ["zz"]]
    wheres = [{"data.x": {"startswith": p}} for p in prefixes]
    events = [{"data": {"x": v}, "host": None}
              for v in ["", "a", "ab", "abc", "abcd", "b", "ba", "c", 1, None, ["a"]]]
    _plain_equal(wheres, events)


def test_nan_is_never_looked_up() -> None:
    """NaN equals nothing, not even itself, though a dict finds the same object."""
    nan = float("nan")
    _plain_equal([{"x": nan} for _ in range(8)], [{"data": {"x": nan}, "host": None}])
