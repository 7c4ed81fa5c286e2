"""Every sink enforces the documented field limits (16 KB a field, 1,000 items a list)
through the one FieldLimits, cutting with a marker and counting what it cut; hook
arguments over the limits are refused, and the audit log shows them cut."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson

from adapters.alerting import RetryPolicy, Router
from adapters.alerting.escape import MARKER
from adapters.alerting.limits import ITEMS_MARKER, MAX_FIELD, FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.chat import ChatSink
from adapters.alerting.sinks.jsonl import JsonLinesSink
from adapters.alerting.sinks.terminal import TerminalSink
from adapters.alerting.sinks.webhook import WebhookSink
from adapters.remediation import RemediationConfig, Remediator
from engine.firing import ActionRequest
from tests.alerting.conftest import FiringFactory
from tests.stand_in import StandIn

FAST = RetryPolicy(attempts=2, initial=0.01, maximum=0.02)
MB = "x" * 1_000_000


def _huge(make_firing: FiringFactory) -> Any:
    return make_firing(0, title=MB, text=MB, labels={"rule": "r", "severity": "critical",
                                                      "instance": MB},
                       event_ids=[f"e{i}" for i in range(5000)],
                       actions=[ActionRequest(hook="command.run", args={"note": MB})])


def _longest_string(doc: Any) -> int:
    if isinstance(doc, str):
        return len(doc)
    if isinstance(doc, dict):
        return max([_longest_string(v) for v in doc.values()] + [0])
    if isinstance(doc, list):
        return max([_longest_string(v) for v in doc] + [0])
    return 0


def test_webhook_and_jsonl_cut_every_field_labels_and_arguments_too(
        tmp_path: Path, stand_in: StandIn, make_firing: FiringFactory) -> None:
    out = tmp_path / "alerts.jsonl"
    webhook, jsonl = WebhookSink(f"{stand_in.base}/hook"), JsonLinesSink(out)
    router = Router([webhook, jsonl], retry=FAST)
    router.submit(_huge(make_firing))
    router.close(5)
    [request] = stand_in.hits("POST", "/hook")
    for doc in (request.json(), orjson.loads(out.read_bytes())):
        firing = doc["firing"]
        assert _longest_string(doc) <= MAX_FIELD
        label = firing["labels"]["instance"]
        assert len(label) == MAX_FIELD and label.endswith(MARKER.format(n=1_000_000 - 16_358))
        assert firing["actions"][0]["args"]["note"].endswith("chars]")
        assert len(firing["event_ids"]) == 1000
        assert firing["event_ids"][-1] == ITEMS_MARKER.format(n=4001)
        assert len(orjson.dumps(doc)) < 100_000
    stats = router.stats()["sinks"]
    # title, text, the label, the argument, the id list
    assert stats["webhook"]["fields_cut"] == stats["jsonl"]["fields_cut"] == 5


def test_terminal_and_chat_cut_through_the_same_limits(make_firing: FiringFactory) -> None:
    firing = _huge(make_firing)
    notice = Notice("firing", firing, "g", firing.time, 0, 1)
    terminal = TerminalSink(io.StringIO(), max_text=10**7, max_field=2000)
    printed = terminal.format(notice)
    assert len(printed) < 10_000 and "chars]" in printed
    assert terminal.limits.cut == 4  # title, text, the offered action, the footer (labels)
    chat = ChatSink("json://127.0.0.1:9/", max_text=10**7, max_field=2000)
    title, body = chat.render(notice)
    assert len(title) < 300 and len(body) < 3000
    assert chat.limits.cut == 3  # title, text, footer


def test_small_fields_are_left_alone_and_not_counted() -> None:
    limits = FieldLimits()
    doc = {"a": "short", "b": [1, 2, "three"], "c": {"d": None, "e": 1.5}}
    assert limits.bound(doc) == doc
    assert limits.cut == 0
    assert limits.oversized(doc) is None
    assert limits.oversized({"args": {"x": ["ok", MB]}}) == "args.x[1]"


def test_hook_arguments_over_the_limit_are_refused_and_audited_cut(tmp_path: Path) -> None:
    from tests.remediation.test_remediator import firing

    audit = tmp_path / "audit.jsonl"
    rem = Remediator(RemediationConfig(), audit)
    big = ActionRequest(hook="port.disable", args={"port_id": MB})
    [rec] = rem.handle(firing(0, big))
    assert rec.outcome == "invalid" and "port_id is over the field limits" in rec.reason
    line = audit.read_text()
    assert len(line) < 20_000 and "chars]" in line
