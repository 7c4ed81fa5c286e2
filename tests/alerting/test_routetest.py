"""Rule tests that state the notices: format mistakes name their line, and a wrong
expectation fails with what did arrive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dreamcatcher.ruletest import run_file
from engine.yamlsource import SourceError
from tests.paths import REPO

CASE = """\
cases:
  - name: one lost lease
    input:
      - {at: 0s, event: {type: dnsmasq.dhcp.request, mac: "fa:16:3e:cb:f7:cf"}}
    notices:
"""
INVENTORY = """\
inventory:
  port:
    - {id: port-cb, mac: "fa:16:3e:cb:f7:cf", device_id: inst-db}
"""


def write(tmp_path: Path, notices: str, extra: str = "") -> Path:
    shutil.copy(REPO / "rules" / "dhcp-lease-lost.yaml", tmp_path / "dhcp-lease-lost.yaml")
    path = tmp_path / "dhcp-lease-lost.test.yaml"
    path.write_text(INVENTORY + CASE + notices + extra)
    return path


@pytest.mark.parametrize(("notices", "line", "where", "message"), [
    ("      - {kind: paged, rule: dhcp-lease-lost}\n", 9, "cases[0].notices[0].kind", "firing"),
    ("      - {kind: firing}\n", 9, "cases[0].notices[0].rule", "required"),
    ("      - {kind: firing, rule: dhcp-lease-lost}\n    silences: [{kind: ack, for: 1h}]\n",
     10, "cases[0].silences[0]", "names the `group`"),
])
def test_a_bad_notice_or_silence_names_its_line(tmp_path: Path, notices: str, line: int,
                                                where: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        run_file(write(tmp_path, notices))
    error = str(caught.value)
    assert f"dhcp-lease-lost.test.yaml:{line}: {where}" in error, error
    assert message in error, error


def test_the_expected_notices_pass_and_the_wrong_ones_say_what_arrived(tmp_path: Path) -> None:
    good = ("      - {kind: firing, rule: dhcp-lease-lost, at: 2m,"
            " group: \"dhcp-lease-lost|fa:16:3e:cb:f7:cf\"}\n")
    [result] = run_file(write(tmp_path, good))
    assert result.ok, result.report()
    [result] = run_file(write(tmp_path, "      - {kind: repeat, rule: dhcp-lease-lost}\n"))
    assert result.problems == [
        "missing notice: repeat of dhcp-lease-lost (expected 1x): firing of dhcp-lease-lost,"
        " expected repeat of dhcp-lease-lost",
        "unexpected notice: firing of dhcp-lease-lost at +120s"
        " group='dhcp-lease-lost|fa:16:3e:cb:f7:cf'"]
    [result] = run_file(write(tmp_path, "      - {kind: firing, rule: dhcp-lease-lost, at: 3m}\n"))
    assert result.problems[0].endswith("at +120s, expected +180s")
