"""Hostile tenant text through every sink, checked on what the local server actually received."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from adapters.alerting import RetryPolicy, Router
from adapters.alerting.escape import MARKER, ZWSP, escape, escape_limited, truncate
from adapters.alerting.sinks.alertmanager import AlertmanagerSink
from adapters.alerting.sinks.chat import ChatSink
from adapters.alerting.sinks.jsonl import JsonLinesSink
from adapters.alerting.sinks.terminal import TerminalSink
from adapters.alerting.sinks.webhook import WebhookSink
from tests.alerting.conftest import FiringFactory
from tests.stand_in import StandIn

FAST = RetryPolicy(attempts=2, initial=0.01, maximum=0.02)

HOSTILE_NAME = "evil @channel @here <!channel> <@U024BE7LH> @room @everyone"
HOSTILE_TEXT = (
    "console: [click me](https://evil.example/phish) <a href='http://x'>x</a> "
    "<script>alert(1)</script> **bold** `code` # heading\n> quote\n"
    "\x1b[2J\x1b]0;pwned\x07 visit www.evil.example \u202eexe.txt\n"
)
BIG = "A" * 100_000  # 100 KB of console output


def _mention_free(text: str) -> None:
    for mention in ("@channel", "@here", "@room", "@everyone", "<!channel>", "<@U024"):
        assert mention not in text, mention


def test_chat_message_is_inert(stand_in: StandIn, make_firing: FiringFactory) -> None:
    sink = ChatSink(f"mmost://127.0.0.1:{stand_in.port}/tok", max_text=3000)
    router = Router([sink], retry=FAST)
    router.submit(make_firing(0, title=f"BPDU guard: instance {HOSTILE_NAME}",
                              text=HOSTILE_TEXT + BIG,
                              labels={"switch": "SW-1", "instance": HOSTILE_NAME}))
    router.close(5)
    [request] = stand_in.hits("POST", "/hooks/tok")
    text = request.json()["text"]
    _mention_free(text)
    assert "@" + ZWSP + "channel" in text  # still readable for a human
    assert "](" not in text.replace("\\](", "")  # no markdown link survives unescaped
    assert "<script" not in text and "<a " not in text and "&lt;script&gt;" in text
    assert "https://" not in text and "www." + "evil" not in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "truncated" in text
    assert len(text) < 3000 + 1000  # text limit plus title and footer, not 100 KB
    assert "SW-1" in text  # the real evidence line is still there


def test_alertmanager_values_are_inert(stand_in: StandIn, make_firing: FiringFactory) -> None:
    sink = AlertmanagerSink(stand_in.base, max_value=512)
    router = Router([sink], retry=FAST)
    router.submit(make_firing(0, title=HOSTILE_NAME, text=HOSTILE_TEXT + BIG,
                              labels={"instance": HOSTILE_NAME, "bad-key.name": "v"}))
    router.close(5)
    [request] = stand_in.hits("POST", "/api/v2/alerts")
    [alert] = request.json()
    _mention_free(str(alert))
    assert "https://" not in alert["annotations"]["description"]
    assert len(alert["annotations"]["description"]) <= 8 * 512
    assert alert["annotations"]["description"].endswith("chars]")
    assert "bad_key_name" in alert["labels"]
    # the cut description is counted with the other sinks' cuts (/metrics fields_cut)
    assert router.stats()["sinks"]["alertmanager"]["fields_cut"] == 1


def test_webhook_and_jsonl_keep_data_but_cut_it(
    tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory
) -> None:
    out = tmp_path / "alerts.jsonl"
    router = Router([WebhookSink(f"{stand_in.base}/hook", max_field=4096),
                     JsonLinesSink(out, max_field=4096)], retry=FAST)
    router.submit(make_firing(0, title=HOSTILE_NAME, text=HOSTILE_TEXT + BIG))
    router.close(5)
    [request] = stand_in.hits("POST", "/hook")
    body = request.json()
    assert body["firing"]["title"] == HOSTILE_NAME  # JSON carries data verbatim, safely encoded
    assert len(body["firing"]["text"]) == 4096 and "truncated" in body["firing"]["text"]
    assert len(out.read_text().splitlines()) == 1


def test_terminal_strips_control_sequences(make_firing: FiringFactory) -> None:
    stream = io.StringIO()
    sink = TerminalSink(stream)
    router = Router([sink], retry=FAST)
    router.submit(make_firing(0, text=HOSTILE_TEXT))
    router.close(5)
    printed = stream.getvalue()
    assert "\x1b" not in printed  # not a TTY: no colour, and the tenant's escapes are gone
    assert "[CRITICAL]" in printed and "SW-1" in printed


def test_terminal_colours_only_its_own_markup(make_firing: FiringFactory) -> None:
    sink = TerminalSink(io.StringIO(), colour=True)
    from adapters.alerting.notice import Notice
    firing = make_firing(0, text=HOSTILE_TEXT)
    printed = sink.format(Notice("firing", firing, "g", firing.time, 0, 1))
    assert printed.startswith("\x1b[1;31m[CRITICAL]")
    assert "\x1b[2J" not in printed and "\x1b]0" not in printed


@pytest.mark.parametrize("dialect", ["markdown", "plain"])
def test_escape_limited_never_exceeds_limit(dialect: str) -> None:
    text = HOSTILE_TEXT * 50
    for limit in (40, 100, 777, 2000):
        out = escape_limited(text, dialect, limit)  # type: ignore[arg-type]
        assert len(out) <= limit
        assert re.search(r"truncated \d+ chars\]$", out)
    # an escape sequence is never split: no lone backslash before the marker
    out = escape_limited("*" * 500, "markdown", 101)
    body = out[: out.index("…")]
    assert body == "\\*" * (len(body) // 2)


def test_short_text_is_unchanged_apart_from_escaping() -> None:
    assert escape("port fa:16:3e:24:e7:22 on SW-1", "markdown") == "port fa:16:3e:24:e7:22 on SW-1"
    assert truncate("short", 10) == "short"
    cut = truncate("x" * 50, 40)
    assert len(cut) == 40 and cut.endswith(MARKER.format(n=50 - (40 - len(MARKER.format(n=50)))))
