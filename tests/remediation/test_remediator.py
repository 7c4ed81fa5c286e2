"""Hooks against a local OpenStack stand-in: dry by default, opt-ins, limits, timeouts, audit."""

from __future__ import annotations

import configparser
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.remediation import SHIPPED, RemediationConfig, Remediator, discover_hooks
from engine.firing import ActionRequest, Firing
from tests.openstack_stand_in import OpenStackStandIn
from tests.stand_in import Reply, StandIn

PORT = "f7c93feb-b837-4bb1-b0bc-7ad2a53d85cb"  # from the corpus's neutron port.create.end
SERVER = "178b0921-8f85-4257-88b6-2e743b5a975c"
T0 = datetime(2024, 2, 15, 1, 40, 18, tzinfo=UTC)


@pytest.fixture
def cloud(corpus: Path) -> Iterator[OpenStackStandIn]:
    stand_in = OpenStackStandIn(corpus)
    stand_in.add_server(SERVER)
    yield stand_in
    stand_in.close()


def config(cloud: OpenStackStandIn | None = None, **over: Any) -> RemediationConfig:
    doc: dict[str, Any] = {"default_timeout": "5s"}
    if cloud is not None:
        doc["openstack"] = {"auth": cloud.auth(), "region_name": "RegionOne"}
    doc.update(over)
    return RemediationConfig.model_validate(doc)


def firing(n: int, *actions: ActionRequest, offset_s: float = 0.0) -> Firing:
    return Firing(id=f"bpdu-guard-trip:{n}", rule="bpdu-guard-trip", severity="critical",
                  time=T0 + timedelta(seconds=offset_s), title="BPDU guard on SW-1",
                  actions=list(actions))


def disable(mode: str = "dry-run", port: str = PORT) -> ActionRequest:
    return ActionRequest(hook="port.disable", args={"port_id": port}, mode=mode)  # type: ignore[arg-type]


def test_dry_run_is_the_default_and_touches_nothing(
    tmp_path: Path, cloud: OpenStackStandIn
) -> None:
    audit = tmp_path / "audit.jsonl"
    rem = Remediator(config(cloud, enforce=["port.disable"]), audit)
    [rec] = rem.handle(firing(0, disable()))
    assert rec.outcome == "dry-run" and not rec.enforced
    assert rec.reason == "the rule asked for dry-run"
    assert PORT in rec.result
    assert cloud.http.requests == []  # not even a token was asked for
    [line] = audit.read_text().splitlines()
    logged = orjson.loads(line)
    assert logged["firing_id"] == "bpdu-guard-trip:0" and logged["target"] == f"port:{PORT}"


def test_rule_enforce_without_deployment_opt_in_stays_dry(
    tmp_path: Path, cloud: OpenStackStandIn
) -> None:
    rem = Remediator(config(cloud), tmp_path / "audit.jsonl")
    [rec] = rem.handle(firing(0, disable("enforce")))
    assert rec.outcome == "dry-run"
    assert "not enabled in this deployment" in rec.reason
    assert cloud.actions == []


def test_both_opt_ins_disable_the_port_for_real(tmp_path: Path, cloud: OpenStackStandIn) -> None:
    rem = Remediator(config(cloud, enforce=["port.disable"]), tmp_path / "audit.jsonl")
    [rec] = rem.handle(firing(0, disable("enforce")))
    assert rec.outcome == "done" and rec.enforced, rec.reason
    assert rec.result == {"port_id": PORT, "admin_state_up": False,
                          "mac_address": "fa:16:3e:bf:7f:89", "device_id": ""}
    assert cloud.actions == [("port.update", {"id": PORT, "admin_state_up": False})]
    assert cloud.ports[PORT]["admin_state_up"] is False


def test_lock_and_stop_instance(tmp_path: Path, cloud: OpenStackStandIn) -> None:
    rem = Remediator(config(cloud, enforce=["instance.lock_stop"], per_target="5/1h"),
                     tmp_path / "audit.jsonl")
    req = ActionRequest(hook="instance.lock_stop", mode="enforce",
                        args={"instance_id": SERVER, "reason": "BPDUs from this instance"})
    [rec] = rem.handle(firing(0, req))
    assert rec.outcome == "done", rec.reason
    assert [name for name, _ in cloud.actions] == ["lock", "os-stop"]
    assert cloud.actions[0][1]["body"] == {"lock": {"locked_reason": "BPDUs from this instance"}}
    # again on a stopped server: nova answers 409, the hook reports it and still succeeds
    [again] = rem.handle(firing(1, req))
    assert again.outcome == "done" and "not stopped" in again.result["stop"]


def test_cloud_error_is_a_failed_action(tmp_path: Path, cloud: OpenStackStandIn) -> None:
    rem = Remediator(config(cloud, enforce=["port.disable"]), tmp_path / "audit.jsonl")
    [rec] = rem.handle(firing(0, disable("enforce", port="0000dead-0000-0000-0000-000000000000")))
    assert rec.outcome == "failed" and "could not be found" in rec.reason


def test_hook_times_out(tmp_path: Path, corpus: Path) -> None:
    slow = OpenStackStandIn(corpus, stall_seconds=3.0)
    try:
        rem = Remediator(config(slow, enforce=["port.disable"],
                                hooks={"port.disable": {"timeout": "0.5s"}}),
                         tmp_path / "audit.jsonl")
        [rec] = rem.handle(firing(0, disable("enforce")))
    finally:
        slow.close()
    assert rec.outcome == "timeout"
    assert rec.duration_ms < 2500


def test_rate_limited_per_target_and_per_hook(tmp_path: Path, cloud: OpenStackStandIn) -> None:
    rem = Remediator(config(cloud, per_target="1/1h", per_hook="3/1h"), tmp_path / "a.jsonl")
    outcomes = [rem.handle(firing(n, disable(), offset_s=n))[0].outcome for n in range(3)]
    assert outcomes == ["dry-run", "rate-limited", "rate-limited"]  # same port: once per hour
    others = [rem.handle(firing(10 + n, disable(port=f"port-{n}"), offset_s=10 + n))[0]
              for n in range(3)]
    assert [r.outcome for r in others] == ["dry-run", "dry-run", "rate-limited"]
    assert "hook:port.disable" in others[2].reason
    later = rem.handle(firing(99, disable(), offset_s=3601))[0]  # the hour has passed
    assert later.outcome == "dry-run"
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 7  # every request audited


def test_redelivered_firing_does_not_act_twice(tmp_path: Path, cloud: OpenStackStandIn) -> None:
    rem = Remediator(config(cloud, enforce=["port.disable"]), tmp_path / "audit.jsonl")
    first = firing(0, disable("enforce"))
    assert rem.handle(first)[0].outcome == "done"
    assert rem.handle(first)[0].outcome == "duplicate"
    assert len(cloud.actions) == 1


def test_unknown_hook_and_bad_args_are_audited(tmp_path: Path) -> None:
    rem = Remediator(config(), tmp_path / "audit.jsonl")
    recs = rem.handle(firing(0, ActionRequest(hook="rm.rf"),
                             ActionRequest(hook="port.disable", args={"port_id": "../../x"})))
    assert [r.outcome for r in recs] == ["invalid", "invalid"]
    assert "unknown hook" in recs[0].reason and "resource id" in recs[1].reason
    with pytest.raises(ValueError, match="not installed"):
        Remediator(config(enforce=["no.such.hook"]), None)


def test_command_run_uses_argv_and_checks_values(tmp_path: Path) -> None:
    out = tmp_path / "ran.txt"
    script = f"import sys; open({str(out)!r}, 'w').write(' '.join(sys.argv[1:]))"
    commands = {"note": {"argv": [sys.executable, "-c", script, "{instance}", "{host}"]},
                "sleep": {"argv": [sys.executable, "-c", "import time; time.sleep(5)"]}}
    rem = Remediator(config(enforce=["command.run"], commands=commands,
                            hooks={"command.run": {"timeout": "0.5s"}}, per_target="10/1h"),
                     tmp_path / "audit.jsonl")

    def run(n: int, name: str, **values: str) -> Any:
        req = ActionRequest(hook="command.run", mode="enforce",
                            args={"command": name, "args": values})
        return rem.handle(firing(n, req))[0]

    done = run(0, "note", instance="some-server", host="compute-1")
    assert done.outcome == "done", done.reason
    assert out.read_text() == "some-server compute-1"
    hostile = run(1, "note", instance="x; rm -rf /", host="h")
    assert hostile.outcome == "invalid"
    assert run(2, "note", instance="--help", host="h").outcome == "invalid"
    assert run(3, "bash").outcome == "invalid"  # not an allowed command
    slow = run(4, "sleep")
    assert slow.outcome == "timeout" and slow.duration_ms < 2000


def test_chat_comment_posts_escaped_text(tmp_path: Path) -> None:
    chat = StandIn()
    chat.route("POST", "/", lambda _r: Reply(200, b"ok"))
    try:
        rem = Remediator(config(enforce=["chat.comment"],
                                chat_urls=[f"mmost://127.0.0.1:{chat.port}/tok"]),
                         tmp_path / "audit.jsonl")
        req = ActionRequest(hook="chat.comment", mode="enforce",
                            args={"text": "port of @channel [x](https://evil) disabled"})
        [rec] = rem.handle(firing(0, req))
    finally:
        chat.close()
    assert rec.outcome == "done", rec.reason
    [post] = chat.hits("POST", "/hooks/tok")
    text = post.json()["text"]
    assert "@channel" not in text and "https://" not in text and "disabled" in text


def test_setup_cfg_declares_the_shipped_hooks() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[2] / "setup.cfg")
    declared = {}
    for line in cfg["options.entry_points"]["dreamcatcher.hooks"].strip().splitlines():
        name, _, target = (part.strip() for part in line.partition("="))
        declared[name] = target
    shipped = {name: f"{f.__module__}:{f.__qualname__}" for name, f in SHIPPED.items()}
    assert declared == shipped


def test_site_hook_is_discovered_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site package installs its own hook; the engine finds and runs it without changes."""
    (tmp_path / "site_hooks.py").write_text(textwrap.dedent("""
        from adapters.remediation import Hook

        class Reboot(Hook):
            name = "site.reboot"
            calls = []

            def validate(self, args):
                return {"host": str(args["host"])}

            def target(self, args):
                return "host:" + args["host"]

            def describe(self, args):
                return "would reboot " + args["host"]

            def run(self, args, timeout):
                Reboot.calls.append(args["host"])
                return {"rebooted": args["host"]}
    """))
    dist = tmp_path / "site_hooks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: site-hooks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[dreamcatcher.hooks]\nsite.reboot = site_hooks:Reboot\nsite.broken = nope_module:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks, errors = discover_hooks()
    assert "site.reboot" in hooks and set(SHIPPED) <= set(hooks)
    assert "site.broken" in errors  # a broken plugin is reported, not fatal
    rem = Remediator(config(enforce=["site.reboot"]), tmp_path / "audit.jsonl")
    req = ActionRequest(hook="site.reboot", args={"host": "compute-7"}, mode="enforce")
    [rec] = rem.handle(firing(0, req))
    assert rec.outcome == "done" and rec.result == {"rebooted": "compute-7"}


def test_the_live_worker_runs_remediation_on_its_own_thread(tmp_path: Path) -> None:
    """An enforced hook that takes its time never holds the caller (the engine thread);
    a clean close runs what is queued, each request audited."""
    import threading
    import time

    from adapters.remediation import Hook
    from adapters.remediation.worker import RemediationWorker

    release = threading.Event()

    class Slow(Hook):
        name = "site.slow"

        def validate(self, args: dict[str, Any]) -> dict[str, Any]:
            return {"host": str(args["host"])}

        def target(self, args: dict[str, Any]) -> str:
            return "host:" + args["host"]

        def describe(self, args: dict[str, Any]) -> str:
            return "would wait on " + args["host"]

        def run(self, args: dict[str, Any], timeout: float) -> Any:
            release.wait(timeout)
            return {"done": args["host"]}

    audit = tmp_path / "audit.jsonl"
    rem = Remediator(config(enforce=["site.slow"]), audit, hooks={"site.slow": Slow})
    worker = RemediationWorker(rem)
    done: list[str] = []
    started = time.monotonic()
    for n in range(3):
        req = ActionRequest(hook="site.slow", args={"host": f"compute-{n}"}, mode="enforce")
        worker.submit(firing(n, req), lambda n=n: done.append(f"compute-{n}"))  # type: ignore[misc]
    assert time.monotonic() - started < 0.5  # queued, not run on the caller's thread
    assert done == []
    release.set()
    worker.close(timeout=30)
    assert done == ["compute-0", "compute-1", "compute-2"]
    records = [orjson.loads(line) for line in audit.read_bytes().splitlines()]
    assert [r["outcome"] for r in records] == ["done", "done", "done"]
