"""pytest collects ``*.test.yaml`` rule tests (filled in with the rule-test runner)."""
