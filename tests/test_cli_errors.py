"""Every CLI mistake is one line ``dreamcatcher: <what>: <why>`` with status 2 (usage)
or 1 (runtime), never a traceback; ``replay -`` reads a pipe as events arrive.

Each case runs the real console entry point in a subprocess, so what is checked
is exactly what a user's terminal gets.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "tests" / "operator_rules"
CLI = [sys.executable, "-m", "dreamcatcher.cli"]
# this checkout's code, whatever the working directory (an installed copy may be elsewhere)
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}

# the shape of tests/operator_rules/single-bpdu.test.yaml's "facts carried by events" case
FACTS: dict[str, object] = {"id": "f", "type": "port.create.end", "time": "2000-01-01T00:00:00Z",
         "facts": [{"kind": "port", "id": "p9",
                    "fields": {"mac": "fa:16:3e:24:e7:22", "device_id": "i9"}},
                   {"kind": "instance", "id": "i9",
                    "fields": {"name": "fresh", "host": "compute-1"}}]}
BPDU: dict[str, object] = {
    "id": "b", "type": "switch.stp.bpdu_guard", "time": "2000-01-01T00:00:01Z",
    "mac": "fa:16:3e:24:e7:22", "data": {"switch": "SW-2"}}
# tests/logs/expected.py: switch-bpduguard-arista-eos.log line 1
BPDU_LOG = ("Feb 15 01:40:18 SW-1 Stp: %SPANTREE-4-BLOCK_BPDUGUARD: Received BPDU packet on "
            "Port-Channel35 with BPDU guard enabled. Disabling interface. "
            "(source mac fa:16:3e:24:e7:22)\n")


def dc(*args: str, cwd: Path = ROOT, stdin: bytes | None = None,
       timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def one_line(result: subprocess.CompletedProcess[str], status: int, starts: str) -> str:
    """The run failed with ``status`` and nothing on stderr but the one line."""
    assert "Traceback" not in result.stderr
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(starts), lines[0]
    return lines[0]


def jsonl(path: Path, *events: Mapping[str, object]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


# -- replay's inputs and options -----------------------------------------------------

def test_a_folder_replays_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    jsonl(folder / "a.jsonl", FACTS)
    jsonl(folder / "b.jsonl", BPDU)
    (folder / ".hidden").write_text("not input\n")
    result = dc("replay", str(folder), "--rules", str(RULES), "--format", "json",
                "--dead-letter", str(tmp_path / "dead.jsonl"))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["rule"] for line in result.stdout.splitlines()] == ["single-bpdu"]
    assert "2 events" in result.stderr and "rejected" not in result.stderr


def test_an_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    one_line(dc("replay", str(tmp_path), "--rules", str(RULES)), 2,
             f"dreamcatcher: replay: {tmp_path}: folder holds no files to replay")


def test_a_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    one_line(dc("replay", str(tmp_path / "nope.jsonl"), "--rules", str(RULES)), 2,
             f"dreamcatcher: replay: no such file: {tmp_path / 'nope.jsonl'}")


def test_an_unknown_kind_is_refused_at_parse_time(tmp_path: Path) -> None:
    line = one_line(dc("replay", "--kind", "dhcp", str(jsonl(tmp_path / "e.jsonl", BPDU))), 2,
                    "dreamcatcher: replay: argument --kind: unknown kind 'dhcp' (known: ")
    assert "dnsmasq" in line and "syslog" in line and "notifications" in line


def test_a_real_log_kind_is_accepted(tmp_path: Path) -> None:
    log = tmp_path / "sw.log"
    log.write_text(BPDU_LOG)
    result = dc("replay", "--kind", "switch", str(log), "--rules", str(RULES),
                "--dead-letter", str(tmp_path / "dead.jsonl"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("1 event, "), result.stderr


def test_a_bad_duration_is_refused_at_parse_time(tmp_path: Path) -> None:
    one_line(dc("replay", "--lateness", "five", str(jsonl(tmp_path / "e.jsonl", BPDU))), 2,
             "dreamcatcher: replay: argument --lateness: 'five' is not a duration")
    one_line(dc("run", "--transport-url", "rabbit://127.0.0.1:1/", "--lateness", "0s"), 2,
             "dreamcatcher: run: argument --lateness: a duration must be positive")


def test_a_missing_rule_test_file(tmp_path: Path) -> None:
    one_line(dc("test", "missing.test.yaml", cwd=tmp_path), 2,
             "dreamcatcher: test: no such file or folder: missing.test.yaml")


@pytest.mark.parametrize("command", ["validate", "replay"])
def test_a_binary_rule_file_is_a_located_rule_error(tmp_path: Path, command: str) -> None:
    rules = tmp_path / "bin.yaml"
    rules.write_bytes(b"rule: r\n" + bytes([0xff, 0xfe, 0x00, 0x9c]) + os.urandom(64))
    args = [str(rules)] if command == "validate" else [
        str(jsonl(tmp_path / "e.jsonl", BPDU)), "--rules", str(rules)]
    result = dc(command, *args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    first, last = result.stderr.splitlines()
    assert first == f"{rules}:2: not UTF-8 text (byte 0xff at offset 8)"
    assert last in ("1 error", "dreamcatcher: rules: 1 error, nothing replayed")


def test_a_rule_file_with_control_characters(tmp_path: Path) -> None:
    rules = tmp_path / "nul.yaml"
    rules.write_bytes(b"rule: r\nseverity: info\x00\n")
    result = dc("validate", str(rules))
    assert "Traceback" not in result.stderr and result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(f"{rules}:2: not YAML text:")


def test_a_chat_sink_without_url_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "dreamcatcher.yaml"
    config.write_text("alerting:\n  sinks:\n    - {type: chat}\n")
    one_line(dc("replay", str(jsonl(tmp_path / "e.jsonl", BPDU)), "--config", str(config)), 1,
             f"dreamcatcher: config: {config}:3: alerting.sinks[0].url: "
             "a chat sink needs a url")


# -- services ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_syslog_on_a_port_in_use(proto: str) -> None:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as taken:
        taken.bind(("127.0.0.1", 0))
        if proto == "tcp":
            taken.listen()
        port = taken.getsockname()[1]
        if proto == "tcp":  # the UDP side must be free so the TCP bind is what fails
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    pytest.skip("the UDP port of the same number is taken too")
        result = dc("listen", "--syslog", "--port", str(port), timeout=20)
    one_line(result, 1, f"dreamcatcher: syslog: cannot listen on 127.0.0.1:{port} ({proto}): "
             "Address already in use")


def test_redis_down_at_start_names_the_url_without_password() -> None:
    result = dc("run", "--transport-url", "rabbit://guest:guest@127.0.0.1:1/",
                "--state-url", "redis://:sekret@127.0.0.1:1/0", timeout=30)
    line = one_line(result, 1, "dreamcatcher: state: cannot use redis://:***@127.0.0.1:1/0: ")
    assert "Connection refused" in line and "sekret" not in result.stderr


def test_a_transport_url_that_is_not_rabbitmq() -> None:
    one_line(dc("run", "--transport-url", "foo://u:pw@host/"), 2,
             "dreamcatcher: run: argument --transport-url: foo://u:***@host/ is not a RabbitMQ URL")


# -- argparse and the unexpected -------------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (["replay", "--bogus", "x"], "dreamcatcher: replay: unrecognized arguments: --bogus"),
    (["replay", "--format"], "dreamcatcher: replay: argument --format: expected one argument"),
    (["inventory", "load"],
     "dreamcatcher: inventory load: the following arguments are required: files"),
    (["frobnicate"], "dreamcatcher: usage: argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_argparse_mistakes_are_one_line(args: list[str], line: str) -> None:
    one_line(dc(*args), 2, line)


def test_help_is_left_as_argparse_prints_it() -> None:
    result = dc("replay", "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: dreamcatcher replay")


CRASH = """
import sys
from dreamcatcher import cli
from dreamcatcher.commands import validate

def boom(args):
    raise RuntimeError("the disk said no")

validate.run = boom  # a bug in a command, as main() would meet it
sys.exit(cli.main(sys.argv[1:]))
"""


def test_an_unexpected_exception_is_an_internal_error_line() -> None:
    result = subprocess.run([sys.executable, "-c", CRASH, "validate", "x"],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    one_line(result, 1, "dreamcatcher: validate: internal error: RuntimeError: the disk said no "
             "(run with --debug for the traceback)")
    debug = subprocess.run([sys.executable, "-c", CRASH, "--debug", "validate", "x"],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "RuntimeError: the disk said no" in debug.stderr


# -- standard input ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_stdin_is_read_once_and_fully(tmp_path: Path, name: str) -> None:
    data = (json.dumps(FACTS) + "\n" + json.dumps(BPDU) + "\n").encode()
    result = dc("replay", "--rules", str(RULES), "--format", "json",
                "--dead-letter", str(tmp_path / "dead.jsonl"), name, stdin=data)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("2 events, 1 alert from"), result.stderr
    assert [json.loads(line)["rule"] for line in result.stdout.splitlines()] == ["single-bpdu"]


def _first_line_within(proc: subprocess.Popen[bytes], seconds: float) -> bytes:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    return proc.stdout.readline() if ready else b""


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_replay_from_a_pipe_alerts_while_the_writer_is_open(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    replay = subprocess.Popen(
        [*CLI, "replay", "--format", "json", "--rules", str(RULES),
         "--dead-letter", str(tmp_path / "dead.jsonl"), "-"],
        cwd=ROOT, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(replay)
    assert replay.stdin is not None
    for event in (FACTS, BPDU):
        replay.stdin.write((json.dumps(event) + "\n").encode())
    replay.stdin.flush()
    line = _first_line_within(replay, 20)
    assert replay.poll() is None, "replay ended: it did not wait for more input"
    assert json.loads(line)["rule"] == "single-bpdu"
    replay.stdin.close()
    assert replay.wait(timeout=20) == 0


def test_listen_piped_into_replay_alerts_as_the_log_line_arrives(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The issue's pipeline: ``listen --stdin switch | replay -`` (plus a file of facts,
    merged by time), the alert out while listen's input is still open."""
    facts = jsonl(tmp_path / "facts.jsonl", FACTS)
    listen = subprocess.Popen([*CLI, "listen", "--stdin", "switch"], cwd=ROOT, env=ENV,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    procs.append(listen)
    replay = subprocess.Popen(
        [*CLI, "replay", "--format", "json", "--rules", str(RULES),
         "--dead-letter", str(tmp_path / "dead.jsonl"), "-", str(facts)],
        cwd=ROOT, env=ENV, stdin=listen.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(replay)
    assert listen.stdin is not None and listen.stdout is not None
    listen.stdout.close()  # replay holds the read end now
    started = time.monotonic()
    listen.stdin.write(BPDU_LOG.encode())
    listen.stdin.flush()
    line = _first_line_within(replay, 30)
    assert listen.poll() is None and replay.poll() is None
    alert = json.loads(line)
    assert alert["rule"] == "single-bpdu" and "fresh" in alert["title"]
    assert time.monotonic() - started < 30
    listen.stdin.close()
    assert listen.wait(timeout=20) == 0 and replay.wait(timeout=20) == 0


def test_ctrl_c_while_waiting_on_a_pipe_ends_cleanly(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The reader thread is blocked in readline: shutdown must not abort on stdin's lock."""
    replay = subprocess.Popen(
        [*CLI, "replay", "--format", "json", "--rules", str(RULES),
         "--dead-letter", str(tmp_path / "dead.jsonl"), "-"],
        cwd=ROOT, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    procs.append(replay)
    assert replay.stdin is not None and replay.stderr is not None
    replay.stdin.write((json.dumps(FACTS) + "\n" + json.dumps(BPDU) + "\n").encode())
    replay.stdin.flush()
    assert _first_line_within(replay, 20)  # running, and waiting for more
    replay.send_signal(signal.SIGINT)
    assert replay.wait(timeout=20) == 130
    err = replay.stderr.read().decode()
    assert "Fatal Python error" not in err and "Traceback" not in err
