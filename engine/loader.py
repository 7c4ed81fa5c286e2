"""Rule files to validated rules; every mistake names its file, line and field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from engine.compiler import compile_rule
from engine.memstore import MemoryStore
from engine.predicates import CompileError, Loc
from engine.schema import Rule
from engine.yamlsource import (
    Document,
    SourceError,
    format_loc,
    load_documents,
    validation_problems,
)

RULE_TEST_SUFFIX = ".test.yaml"
#: an extra check of a valid rule (``engine.rulecheck``): (field path, message) per problem
Check = Callable[[Rule], list[tuple[Loc, str]]]


class RuleErrors(Exception):
    """All the mistakes found in a set of rule files (not just the first)."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    path: str
    line: int


def rule_files(paths: Iterable[Path | str]) -> list[Path]:
    """Rule files under the given files and folders (rule tests excluded), sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*.y*ml"))
                if p.suffix in (".yaml", ".yml") and not p.name.endswith(RULE_TEST_SUFFIX)
            )
        else:
            out.append(path)
    return out


def _validate(doc: Document, check: Check | None = None) -> tuple[Rule | None, list[SourceError]]:
    if not isinstance(doc.data, dict):
        return None, [doc.error((), "a rule is a YAML mapping (rule:, severity:, when:, alert:)")]
    try:
        rule = Rule.model_validate(doc.data)
    except ValidationError as exc:
        return None, [doc.error(loc, message) for loc, message in validation_problems(exc)]
    try:  # compile against a scratch store: catches bad operators, regexes, templates
        compile_rule(rule, MemoryStore(), 0.0)
    except CompileError as exc:
        return None, [doc.error(exc.loc, exc.message)]
    if check is not None:
        problems = sorted((doc.error(loc, message) for loc, message in check(rule)),
                          key=lambda e: e.line)
        if problems:
            return None, problems
    return rule, []


def load_rule_file(path: Path | str, text: str | None = None,
                   check: Check | None = None) -> list[LoadedRule]:
    """Validate every document of one file; raises ``RuleErrors`` listing all mistakes.

    ``check`` (``validate`` passes the catalogue check) runs on each rule that compiled.
    """
    try:
        docs = load_documents(path, text)
    except SourceError as exc:
        raise RuleErrors([exc]) from None
    loaded, errors = [], []
    for doc in docs:
        rule, problems = _validate(doc, check)
        errors.extend(problems)
        if rule is not None:
            loaded.append(LoadedRule(rule, doc.path, doc.start_line))
    if errors:
        raise RuleErrors(errors)
    return loaded


def load_rules(paths: Iterable[Path | str] | Path | str,
               check: Check | None = None) -> list[Rule]:
    """All rules under files/folders; duplicate ids and every file's errors reported."""
    if isinstance(paths, str | Path):
        paths = [paths]
    errors: list[SourceError] = []
    seen: dict[str, LoadedRule] = {}
    files = rule_files(paths)
    for path in files:
        if not path.exists():
            errors.append(SourceError(str(path), 0, "", "no such file"))
            continue
        try:
            for item in load_rule_file(path, check=check):
                if item.rule.rule in seen:
                    first = seen[item.rule.rule]
                    errors.append(SourceError(
                        item.path, item.line, format_loc(("rule",)),
                        f"duplicate rule id {item.rule.rule!r} (also {first.path}:{first.line})",
                    ))
                else:
                    seen[item.rule.rule] = item
        except RuleErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise RuleErrors(errors)
    return [item.rule for item in seen.values()]
