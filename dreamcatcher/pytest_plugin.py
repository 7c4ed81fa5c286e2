"""pytest collects ``*.test.yaml`` rule tests: one test item per case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.loader import RULE_TEST_SUFFIX


class RuleTestFailure(Exception):
    pass


class RuleTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from dreamcatcher.ruletest import load_test_file

        spec = load_test_file(Path(self.path))
        for case in spec.cases:
            yield RuleCaseItem.from_parent(self, name=case.name, spec=spec, case=case)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, spec: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.case = case

    def runtest(self) -> None:
        from dreamcatcher.ruletest import run_case

        result = run_case(Path(self.path), self.spec, self.case)
        if not result.ok:
            raise RuleTestFailure(result.report())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, RuleTestFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.path), 0, f"rule test: {self.name}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(RULE_TEST_SUFFIX):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None
