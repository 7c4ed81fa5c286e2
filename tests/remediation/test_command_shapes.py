"""command.run's argument values: the default pattern refuses path climbing and smuggled
key=value pairs, declared shapes admit exactly their kind, and the config loader refuses
an unknown shape or a misspelt placeholder with file and line."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import get_args

import pytest

from adapters.remediation import RemediationConfig, Remediator
from adapters.remediation.shapes import DEFAULT_VALUE_PATTERN, SHAPES, Shape, admits
from dreamcatcher.config import load_config
from engine.firing import ActionRequest
from engine.yamlsource import SourceError
from tests.remediation.test_remediator import firing

DEFAULT = re.compile(DEFAULT_VALUE_PATTERN)
PAYLOADS = ["a/../../../../etc/passwd", "name=evil,role=admin", "..", "x..y", "a,b", "k=v",
            "-rf", "--help", "x; rm -rf /", "$(id)", "a b", "", "x" * 256]
LEGITIMATE = ["compute-1", "compute-1.example.org", "178b0921-8f85-4257-88b6-2e743b5a975c",
              "fa:16:3e:12:34:56", "10.0.0.5", "10.0.0.0/24", "Ethernet1/2", "web_01.v2",
              "user@example.org", "v1+build"]


@pytest.mark.parametrize("value", PAYLOADS)
def test_the_default_pattern_refuses(value: str) -> None:
    assert not admits(None, DEFAULT, value)


@pytest.mark.parametrize("value", LEGITIMATE)
def test_the_default_pattern_admits(value: str) -> None:
    assert admits(None, DEFAULT, value)


@pytest.mark.parametrize(("shape", "good", "bad"), [
    ("uuid", ["178b0921-8f85-4257-88b6-2e743b5a975c", "178b09218f85425788b62e743b5a975c"],
     ["178b0921", "178b0921-8f85-4257-88b6-2e743b5a975c/..",
      "g78b0921-8f85-4257-88b6-2e743b5a975c"]),
    ("hostname", ["compute-1", "cmp-1.rack2.example.org", "a"],
     ["-cmp", "cmp-", "a..b", "a_b", "a/b", "x" * 64, "a=b", ".a"]),
    ("integer", ["0", "42", "123456789012345678"], ["-1", "1.5", "1e3", "", "9" * 19]),
    ("ip", ["10.0.0.5", "fe80::1", "2001:db8::42"], ["10.0.0.256", "10.0.0.0/24", "host"]),
    ("mac", ["fa:16:3e:12:34:56", "FA:16:3E:12:34:56"], ["fa:16:3e:12:34", "fa-16-3e-12-34-56"]),
    ("name", ["web-01", "web_01.v2"], ["a/b", "..", "a..b", "a=b", "a,b", "-a"]),
    ("interface", ["Ethernet1/2", "Gi0/1.100", "xe-0/0/1:2"], ["1/2", "Eth/../x", "Eth 1"]),
])
def test_each_shape_admits_its_kind_only(shape: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert admits(shape, DEFAULT, value), value
    for value in [*bad, *PAYLOADS]:
        assert not admits(shape, DEFAULT, value), value


def test_every_shape_is_implemented() -> None:
    assert set(get_args(Shape)) == set(SHAPES)


def test_command_run_refuses_both_payloads_and_runs_declared_shapes(tmp_path: Path) -> None:
    out = tmp_path / "ran.txt"
    script = f"import sys; open({str(out)!r}, 'w').write(' '.join(sys.argv[1:]))"
    config = RemediationConfig.model_validate({
        "enforce": ["command.run"], "per_target": "10/1h",
        "commands": {"evacuate": {"argv": [sys.executable, "-c", script, "{host}", "{server}",
                                           "{note}"],
                                  "placeholders": {"host": "hostname", "server": "uuid"}}}})
    rem = Remediator(config, tmp_path / "audit.jsonl")

    def run(n: int, **values: str) -> str:
        req = ActionRequest(hook="command.run", mode="enforce",
                            args={"command": "evacuate", "args": values})
        record = rem.handle(firing(n, req))[0]
        return record.outcome if record.outcome != "invalid" else record.reason

    server = "178b0921-8f85-4257-88b6-2e743b5a975c"
    assert run(0, host="cmp-1", server=server, note="a/../../../../etc/passwd") == (
        "command evacuate: value for {note} is not allowed: 'a/../../../../etc/passwd'")
    assert "is not allowed" in run(1, host="cmp-1", server=server, note="name=evil,role=admin")
    assert "is not a hostname" in run(2, host="cmp-1/../x", server=server, note="ok")
    assert "is not a uuid" in run(3, host="cmp-1", server="name=evil", note="ok")
    assert not out.exists()  # nothing ran
    assert run(4, host="cmp-1.example.org", server=server, note="v2") == "done"
    assert out.read_text() == f"cmp-1.example.org {server} v2"


def _config_file(tmp_path: Path, placeholders: str) -> Path:
    path = tmp_path / "dreamcatcher.yaml"
    path.write_text(textwrap.dedent(f"""\
        remediation:
          commands:
            evacuate:
              argv: [/usr/local/bin/evacuate, "{{host}}"]
              placeholders: {placeholders}
        """))
    return path


def test_the_loader_refuses_an_unknown_shape_with_file_and_line(tmp_path: Path) -> None:
    path = _config_file(tmp_path, "{host: fqdn}")
    with pytest.raises(SourceError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}:5" in message and "placeholders.host" in message and "hostname" in message


def test_the_loader_refuses_a_shape_for_a_placeholder_argv_lacks(tmp_path: Path) -> None:
    path = _config_file(tmp_path, "{hots: hostname}")
    with pytest.raises(SourceError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "['hots'] do not appear" in str(caught.value)


def test_the_loader_accepts_known_shapes(tmp_path: Path) -> None:
    config = load_config(_config_file(tmp_path, "{host: hostname}"))
    assert config.remediation.commands["evacuate"].placeholders == {"host": "hostname"}
