"""What a person sees in a terminal: wrapped alerts, a progress line out of their way, a summary."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from adapters.alerting.notice import Notice
from adapters.alerting.sinks.terminal import TerminalSink
from dreamcatcher.progress import ERASE, InputMeter, Progress
from dreamcatcher.summary import Delivery, RunTally, display, format_summary
from dreamcatcher.words import plural
from engine.events import Event
from engine.firing import Firing

ROOT = Path(__file__).resolve().parents[1]  # the checkout under test
TEXT = (
    "nova-compute on compute-5 failed block device setup for instance "
    "873e2f41-4286-459a-8ac9-d11148dec3cf (project 8c1f9e4a0d6b4f0c9a7e2b3c4d5e6f70) and "
    "cinder never reported that volume: the request did not reach cinder-api. Check: the "
    "load balancer between nova-compute and cinder-api, haproxy backend health and its log "
    "around the burst. Safe fix: delete and rebuild the ERROR instance once the path to "
    "cinder-api is healthy."
)


def notice(text: str = TEXT, title: str = "Volume POST lost: instance bulk-4") -> Notice:
    firing = Firing(id="f1", rule="volume-post-lost", severity="critical",
                    time=datetime(2026, 12, 2, 10, 41, 7, tzinfo=UTC), title=title, text=text,
                    labels={"instance_id": "873e2f41-4286-459a-8ac9-d11148dec3cf"})
    return Notice(kind="firing", firing=firing, group_key="g", first_time=firing.time,
                  folded=0, total=1)


class FakeTTY(io.StringIO):
    """A terminal as far as ``isatty`` goes; what was written stays readable."""

    def isatty(self) -> bool:
        return True


def test_header_carries_the_time_zone() -> None:
    out = TerminalSink(io.StringIO(), width=100).format(notice())
    assert out.splitlines()[0].startswith("[CRITICAL] 2026-12-02 10:41:07 UTC Volume POST lost")


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_body_wraps_to_the_width_and_only_unbreakable_tokens_overflow(width: int) -> None:
    out = TerminalSink(io.StringIO(), width=width).format(notice())
    lines = out.splitlines()
    assert len(lines) > 4  # the 400-character body did not stay one line
    for line in lines:
        if len(line) > width:  # allowed only for a single word longer than the width
            assert len(line.split()) == 1, line
    words = " ".join(line.strip() for line in lines[1:-2])
    assert "873e2f41-4286-459a-8ac9-d11148dec3cf" in words  # a UUID is never split at '-'


def test_a_token_longer_than_the_width_is_kept_whole() -> None:
    token = "x" * 90
    out = TerminalSink(io.StringIO(), width=40).format(notice(text=f"see {token} now"))
    assert f"    {token}" in out.splitlines()


def test_check_and_safe_fix_start_their_own_lines() -> None:
    lines = TerminalSink(io.StringIO(), width=100).format(notice()).splitlines()
    starts = [line for line in lines if line.startswith(("    Check:", "    Safe fix:"))]
    assert [s.split(":")[0].strip() for s in starts] == ["Check", "Safe fix"]
    assert not any("Check:" in line and not line.startswith("    Check:") for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])  # one indent for the body


def test_wrap_width_follows_a_terminal_and_defaults_to_100_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    assert TerminalSink(FakeTTY(), colour=False).columns() == 70
    assert TerminalSink(io.StringIO()).columns() == 100


def test_colour_does_not_count_towards_the_width() -> None:
    out = TerminalSink(io.StringIO(), width=60, colour=True).format(notice())
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert max(len(line) for line in plain.splitlines()) <= 60
    assert "\x1b[1mCheck:\x1b[0m" in out


def test_progress_line_is_erased_before_an_alert_on_the_same_terminal() -> None:
    screen = FakeTTY()
    progress = Progress(stream=screen, every=0.0, enabled=True, width=100)
    sink = TerminalSink(progress.guard(screen), width=100, colour=False)
    progress.update(96_984, 0)
    sink.send(notice())
    text = screen.getvalue()
    drawn = text.index("96,984 events")
    alert = text.index("[CRITICAL]")
    assert ERASE in text[drawn:alert]  # the alert starts at column 0 of a clean line
    assert text[alert - len(ERASE):alert] == ERASE
    progress.update(100_000, 1)  # and the line comes back afterwards
    assert text.count("events/s") < screen.getvalue().count("events/s")


def test_progress_stays_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream, every=0.0)
    progress.update(10, 0)
    progress.done(10, 0)
    assert stream.getvalue() == ""
    assert progress.guard(stream) is stream  # nothing in the alerts' way


def test_progress_shows_percentage_and_eta_when_sizes_are_known(tmp_path: Path) -> None:
    data = tmp_path / "a.log"
    data.write_bytes(b"x" * 999 + b"\n" + b"y" * 999 + b"\n")
    meter = InputMeter([data])
    assert meter.total == 2000
    with meter.open(data) as fh:
        fh.readline()  # a reader half-way through
        progress = Progress(stream=FakeTTY(), enabled=True, meter=meter)
        progress.started -= 10.0  # ten seconds in, half done: ten to go
        line = progress.line(500, 1, progress.started + 10.0)
    assert line.startswith(" 50% 500 events, 1 alert, ")
    assert line.endswith("ETA 0:10")
    assert meter.position() == 2000  # a closed file counts whole


def test_progress_shows_no_percentage_for_a_pipe() -> None:
    meter = InputMeter([Path("/dev/stdin"), Path("-")])
    assert meter.total is None
    progress = Progress(stream=FakeTTY(), enabled=True, meter=meter)
    line = progress.line(5, 0, progress.started + 1.0)
    assert "%" not in line and "ETA" not in line


def test_plurals() -> None:
    assert plural(1, "alert") == "1 alert"
    assert plural(2, "alert") == "2 alerts"
    assert plural(0, "alert") == "0 alerts"
    assert plural(1_394, "event") == "1,394 events"
    assert plural(1, "failed delivery") == "1 failed delivery"
    assert plural(3, "failed delivery") == "3 failed deliveries"


def firing(rule: str) -> Firing:
    return Firing(id=rule, rule=rule, severity="info", title="t",
                  time=datetime(2026, 1, 1, tzinfo=UTC))


def test_summary_counts_sources_lines_rules_and_losses() -> None:
    tally = RunTally()
    event = Event(id="e", type="x", time=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(list(tally.count("nova.log", [event] * 3))) == 3
    assert list(tally.count("notes.jsonl", [event])) == [event]
    tally.stats.miss("nova.log", "???")
    tally.stats.ignore("nova.log")
    tally.stats.ignore("nova.log")
    seen: list[str] = []
    handle = tally.counting(lambda f: seen.append(f.rule))
    for rule in ("a", "b", "b"):
        handle(firing(rule))
    text = format_summary(tally, rules=1, rejected=Counter({"notes.jsonl:7": 1}),
                          dead_letter_path=Path("/var/dead.jsonl"),
                          delivery=Delivery(silenced=2, failed=1, kept_in=None))
    assert seen == ["a", "b", "b"]
    assert text.splitlines()[0] == "4 events, 3 alerts from 1 rule"
    assert re.search(r"nova\.log +3 events, 1 unparsed line, 2 ignored lines$", text, re.M)
    assert re.search(r"notes\.jsonl +1 event, 1 input rejected$", text, re.M)
    assert re.search(r"^  b +2 alerts$", text, re.M)
    assert re.search(r"^  a +1 alert$", text, re.M)
    assert "alert delivery: 2 silenced, 1 failed delivery" in text
    assert "1 input rejected, kept with the reason in /var/dead.jsonl" in text


def test_summary_of_a_clean_run_says_nothing_about_losses() -> None:
    tally = RunTally()
    list(tally.count("only.jsonl", []))
    text = format_summary(tally, rules=2, rejected=Counter(), dead_letter_path=None)
    assert text.splitlines()[0] == "0 events, 0 alerts from 2 rules"
    assert "rejected" not in text and "delivery" not in text and "alerts by rule" not in text


def test_router_stats_become_silenced_and_failed_counts() -> None:
    stats = {"silenced": 3, "sinks": {"chat": {"dead_lettered": 2}, "t": {"sent": 5}}}
    assert Delivery.from_router_stats(stats, None) == Delivery(silenced=3, failed=2)


def replay(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    rules = tmp_path / "r.yaml"
    rules.write_text("rule: r\nseverity: info\nwhen: {event: x}\nalert: {title: 'x seen'}\n")
    events = tmp_path / "e.jsonl"
    good = orjson.dumps({"id": "a", "type": "x", "time": "2026-01-01T00:00:00Z"}).decode()
    events.write_text(good + "\n{not json\n")
    return subprocess.run(
        [sys.executable, "-m", "dreamcatcher.cli", "replay", str(events), "--rules", str(rules),
         "--dead-letter", str(tmp_path / "dead.jsonl"), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_rejected_input_exits_1(tmp_path: Path) -> None:
    proc = replay(tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "1 event, 1 alert from 1 rule" in proc.stderr
    assert "1 input rejected, kept with the reason in" in proc.stderr
    assert "[INFO] 2026-01-01 00:00:00 UTC x seen" in proc.stdout
    assert (tmp_path / "dead.jsonl").read_text().count("\n") == 1


def test_allow_rejects_exits_0(tmp_path: Path) -> None:
    proc = replay(tmp_path, "--allow-rejects")
    assert proc.returncode == 0, proc.stderr
    assert "1 input rejected" in proc.stderr


def test_demo_has_no_rejects_and_exits_0(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dreamcatcher.cli", "demo",
         "--dead-letter", str(tmp_path / "dead.jsonl")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rejected" not in proc.stderr
    # how many alerts is tests/pack/test_demo.py's (exactly nine once the oslo parser fix lands)
    assert re.search(r"\b9 alerts from 10 rules", proc.stderr), proc.stderr
    assert "Check:" in proc.stdout and " UTC " in proc.stdout
    long = [line for line in proc.stdout.splitlines() if len(line) > 100]
    assert all(len(line.split()) == 1 for line in long), long  # only unbreakable ids overhang


def test_source_names_are_short_but_never_lose_their_root(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "logs" / "nova-api.log"
    monkeypatch.chdir(tmp_path)
    assert display(inside) == "logs/nova-api.log"
    assert display("/var/log/syslog") == "/var/log/syslog"
    assert display("relative.log") == "relative.log"
    monkeypatch.chdir("/")  # from / a relative path would hide that it is absolute
    assert display(inside) == str(inside)


def test_demo_names_its_bundled_files(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dreamcatcher.cli", "demo", "--quiet-day",
                           "--dead-letter", str(tmp_path / "dead.jsonl")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^  quiet-day/notifications\.jsonl \(bundled\)\s+[\d,]+ events$",
                     proc.stderr, re.M), proc.stderr
