"""``check_rule``: everything ``validate`` knows can never work, as (field path, message).

Kept apart from the loader so only ``validate`` pays for it (and needs a catalogue):
replay, run and rule tests feed events from anywhere, including the test itself.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.catalogue import Catalogue
from engine.pathcheck import Problem, check_paths
from engine.schema import Rule
from engine.templatecheck import check_templates

RuleCheck = Callable[[Rule], list[Problem]]


def check_rule(rule: Rule, catalogue: Catalogue) -> list[Problem]:
    """Unknown event types and globs, paths to fields nothing has, undefined template names."""
    problems, firing = check_paths(rule, catalogue)
    return problems + check_templates(rule, firing)


def rule_check(catalogue: Catalogue) -> RuleCheck:
    """``check_rule`` bound to one catalogue, as ``load_rules(check=...)`` takes it."""
    return lambda rule: check_rule(rule, catalogue)
