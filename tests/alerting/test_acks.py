"""Acks: an acknowledged group gets no repeat, its resolve still arrives, and once the
ack ends the repeats resume; ``dreamcatcher ack`` and ``POST /ack`` write the same file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from adapters.alerting.acks import AckRequest, acknowledge
from adapters.alerting.router import Router
from adapters.alerting.silences import SilenceFile
from adapters.alerting.sinks.recording import RecordingSink
from dreamcatcher.ackapi import ack_routes
from dreamcatcher.cli import main
from dreamcatcher.httpd import HttpConfig, OpsServer
from dreamcatcher.metrics import Metrics
from engine.firing import Firing

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
GROUP = "dhcp-lease-lost|fa:16:3e:cb:f7:cf"


def firing(at_min: float, *, resolves: bool = False, mac: str = "fa:16:3e:cb:f7:cf") -> Firing:
    return Firing(id=f"f-{mac}-{at_min}-{resolves}", rule="dhcp-lease-lost", severity="warning",
                  time=T0 + timedelta(minutes=at_min), title=f"DHCP lease lost: {mac}",
                  labels={"mac": mac}, group_key=f"dhcp-lease-lost|{mac}",
                  repeat_seconds=600.0, resolves=resolves)


def notices(store: SilenceFile, firings: list[Firing]) -> list[tuple[str, str, float]]:
    sink = RecordingSink()
    router = Router([sink], silences=store)
    for f in firings:
        router.submit(f)
    router.close(5)
    return [(n.kind, n.firing.labels["mac"][-2:], (n.at - T0).total_seconds() / 60)
            for n in sink.notices]


@pytest.fixture
def store(tmp_path: Path) -> SilenceFile:
    return SilenceFile(tmp_path / "silences.json", poll=0.0)


def test_an_acked_group_gets_no_repeat_but_its_resolve(store: SilenceFile) -> None:
    acknowledge(store, AckRequest(group=GROUP, **{"for": "1h"}), via="test",
                now=T0 + timedelta(minutes=1))
    other = "fa:16:3e:00:00:02"
    got = notices(store, [firing(0), firing(0, mac=other), firing(11), firing(11, mac=other),
                          firing(30, resolves=True)])
    assert got == [("firing", "cf", 0), ("firing", "02", 0), ("repeat", "02", 11),
                   ("resolved", "cf", 30)]


def test_after_the_ack_ends_the_repeats_resume(store: SilenceFile) -> None:
    acknowledge(store, AckRequest(group=GROUP, **{"for": "30m"}), via="test",
                now=T0 + timedelta(minutes=1))
    got = notices(store, [firing(0), firing(11), firing(22), firing(32), firing(43)])
    assert got == [("firing", "cf", 0), ("repeat", "cf", 32), ("repeat", "cf", 43)]


def test_an_ack_ends_with_its_group(store: SilenceFile) -> None:
    acknowledge(store, AckRequest(group=GROUP, **{"for": "4h"}), via="test",
                now=T0 + timedelta(minutes=1))
    got = notices(store, [firing(0), firing(5, resolves=True), firing(20), firing(31)])
    assert got == [("firing", "cf", 0), ("resolved", "cf", 5), ("firing", "cf", 20),
                   ("repeat", "cf", 31)]  # a new incident of the same key is not acked


def test_an_ack_does_not_mute_a_new_group(store: SilenceFile) -> None:
    acknowledge(store, AckRequest(group=GROUP, **{"for": "4h"}), via="test", now=T0)
    assert notices(store, [firing(1)]) == [("firing", "cf", 1)]


def test_the_ack_command_writes_an_audited_ack(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "silences.json"
    assert main(["ack", GROUP, "--for", "2h", "--comment", "on it", "--by", "alice",
                 "--file", str(path)]) == 0
    assert "acknowledged until" in capsys.readouterr().out
    [ack] = orjson.loads(path.read_bytes())
    assert (ack["kind"], ack["group"], ack["comment"], ack["created_by"]) == (
        "ack", GROUP, "on it", "alice via cli")
    ends = datetime.fromisoformat(ack["ends_at"]) - datetime.fromisoformat(ack["starts_at"])
    assert ends == timedelta(hours=2)
    assert main(["silence", "--file", str(path), "list"]) == 0
    assert "ack      active   until" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["--for", "soon"], "--for: 'soon' is not a duration"),
    (["--for", "30d"], "--for: an ack lasts at most 7 days"),
    (["--by", "a\nb"], "--by: must be printable text"),
])
def test_a_bad_ack_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    argv: list[str], message: str) -> None:
    assert main(["ack", GROUP, *argv, "--file", str(tmp_path / "s.json")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "silences.json"
    config = HttpConfig(port=0, ack_token="s3cret")
    with OpsServer(config, Metrics(), posts=ack_routes(config, SilenceFile(path))) as ops:
        yield f"http://127.0.0.1:{ops.port}/ack", path


def test_post_ack_as_json_and_as_a_slash_command(endpoint: tuple[str, Path]) -> None:
    url, path = endpoint
    auth = {"Authorization": "Bearer s3cret"}
    reply = httpx.post(url, json={"group": GROUP, "for": "1h", "by": "bob"}, headers=auth)
    assert reply.status_code == 201 and GROUP in reply.json()["text"]
    reply = httpx.post(url, data={"text": f"{GROUP} 30m rebooting it", "user_name": "carol",
                                  "token": "s3cret"})
    assert reply.status_code == 201, reply.text
    acks = orjson.loads(path.read_bytes())
    assert [(a["created_by"], a["comment"]) for a in acks] == [
        ("bob via http", ""), ("carol via http", "rebooting it")]


def test_post_ack_refuses_bad_requests(endpoint: tuple[str, Path]) -> None:
    url, path = endpoint
    auth = {"Authorization": "Bearer s3cret"}
    assert httpx.post(url, json={"group": GROUP}).status_code == 401
    assert httpx.post(url, json={"group": GROUP},
                      headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = httpx.post(url, json={"group": GROUP, "for": "-1h"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["text"] == "for: '-1h' is not a duration" + (
        " (like 30s, 15m, 1h30m, 2d, 1w)")
    assert httpx.post(url, content=b"[1", headers=auth).status_code == 400
    assert httpx.post(url, json={"group": ""}, headers=auth).status_code == 400
    assert httpx.post(url, content=b"x" * 70_000, headers=auth).status_code == 413
    assert not path.exists()


def test_without_a_token_ack_is_served_on_loopback_only(tmp_path: Path) -> None:
    store = SilenceFile(tmp_path / "s.json")
    assert list(ack_routes(HttpConfig(bind="127.0.0.1"), store)) == ["/ack"]
    assert ack_routes(HttpConfig(bind="0.0.0.0"), store) == {}
    assert list(ack_routes(HttpConfig(bind="0.0.0.0", ack_token="t"), store)) == ["/ack"]
    assert ack_routes(HttpConfig(), SilenceFile(None)) == {}
