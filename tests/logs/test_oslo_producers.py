"""nova and cinder records written by oslo.log's own formatters, read back by our parsers.

Every line here comes from ``oslo_log.formatters.ContextFormatter`` or ``JSONFormatter``
with a real ``oslo_context.context.RequestContext``, the format strings set as a site
sets them. Format sources: oslo.log's defaults (``oslo_log._options``); the pre-Pike
default (oslo.log before Pike: no ``global_request_id``, five-field user identity);
DevStack's ``setup_systemd_logging`` and ``setup_colorized_logging`` in devstack's
``functions`` (as written into the services' ``[DEFAULT]``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

oslo_log = pytest.importorskip("oslo_log")
pytest.importorskip("oslo_context")

from oslo_config import cfg  # noqa: E402
from oslo_context import context as oslo_context  # noqa: E402
from oslo_log import formatters  # noqa: E402
from oslo_log import log as oslo_logging  # noqa: E402

from adapters.logs import parse_lines  # noqa: E402
from adapters.logs.oslo import (  # noqa: E402
    DEVSTACK_CONTEXT,
    DEVSTACK_DEBUG_SUFFIX,
    DEVSTACK_DEFAULT,
    DEVSTACK_EXCEPTION_PREFIX,
    PIKE_USER_IDENTITY,
    PRE_PIKE_CONTEXT,
    format_from_config,
    oslo_format,
)
from engine.events import Event  # noqa: E402

USER, PROJECT = "32b23e4c214840debe8c1b9ea086e614", "7d1b9abb64864531be3078cc306330d9"
REQ, GREQ = "req-fde9cd45-24ef-453b-8a4f-117bf688e4c3", "req-0b0b0b0b-1111-4222-8333-444444444444"
INSTANCE = "2c9c25c8-3455-41af-a1b8-e7773436c334"
VOLUME = "c8b3f28e-2566-44f9-9cb0-da83e12c61d1"
NOT_CREATED = (f"Volume {VOLUME} did not finish being created even after we waited 3 seconds "
               "or 2 attempts. And its status is error.")

_C = "\x1b"
#: DevStack's colourised strings (``setup_colorized_logging``).
DEVSTACK_COLOR = {
    "logging_context_format_string":
        f"%(color)s%(levelname)s %(name)s [{_C}[01;36m%(global_request_id)s %(request_id)s "
        f"{_C}[00;36m%(project_name)s %(user_name)s%(color)s] {_C}[01;35m%(instance)s"
        f"%(color)s%(message)s{_C}[00m",
    "logging_default_format_string":
        f"%(color)s%(levelname)s %(name)s [{_C}[00;36m-%(color)s] {_C}[01;35m%(instance)s"
        f"%(color)s%(message)s{_C}[00m",
    "logging_debug_format_suffix":
        f"{_C}[00;33m{{{{(pid=%(process)d) %(funcName)s %(pathname)s:%(lineno)d}}}}{_C}[00m",
    "logging_exception_prefix": f"ERROR %(name)s {_C}[01;35m%(instance)s{_C}[00m",
}
DEVSTACK = {
    "logging_context_format_string": DEVSTACK_CONTEXT,
    "logging_default_format_string": DEVSTACK_DEFAULT,
    "logging_debug_format_suffix": DEVSTACK_DEBUG_SUFFIX,
    "logging_exception_prefix": DEVSTACK_EXCEPTION_PREFIX,
}
#: Pike's five-field identity wrote ``%(tenant)s``, which today's oslo.context no longer
#: fills: the same field under today's name, so the line has the pre-Pike shape.
PRE_PIKE = {"logging_context_format_string": PRE_PIKE_CONTEXT,
            "logging_user_identity_format": PIKE_USER_IDENTITY.replace("tenant", "project")}
#: A site's own override: request id last, user identity as ``user@project``.
SITE = {"logging_context_format_string":
        "%(asctime)s %(levelname)s %(name)s pid=%(process)d (%(user_identity)s) "
        "%(request_id)s: %(instance)s%(message)s",
        "logging_default_format_string":
        "%(asctime)s %(levelname)s %(name)s pid=%(process)d: %(instance)s%(message)s",
        "logging_user_identity_format": "%(user)s@%(project)s"}

#: format name -> (oslo.log options, whether ids or names are written)
FORMATS: dict[str, tuple[dict[str, str], str]] = {
    "default": ({}, "ids"), "pre-pike": (PRE_PIKE, "ids"), "devstack": (DEVSTACK, "names"),
    "devstack-color": (DEVSTACK_COLOR, "names"), "site": (SITE, "ids"),
}


def _emit(options: dict[str, str], json: bool = False) -> list[str]:
    """A nova-compute and a cinder-volume record set through oslo.log's real formatter."""
    conf = cfg.ConfigOpts()
    oslo_logging.register_options(conf)
    conf([])
    for name, value in options.items():
        conf.set_override(name, value)
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(formatters.JSONFormatter() if json else
                         formatters.ContextFormatter(config=conf, datefmt=conf.log_date_format))
    ctx = oslo_context.RequestContext(
        user_id=USER, project_id=PROJECT, user_name="alice", project_name="demo",
        request_id=REQ, global_request_id=GREQ, overwrite=False)
    oslo_context._request_store.context = None  # only records given a context carry one

    def adapter(name: str) -> Any:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return oslo_logging.KeywordArgumentAdapter(logger, {})

    compute = adapter("nova.compute.manager")
    try:
        raise _volume_not_created()
    except Exception:
        compute.exception("Instance failed block device setup", context=ctx,
                          instance={"uuid": INSTANCE})
    adapter("oslo_concurrency.processutils").debug(
        "Running cmd (subprocess): %s", "ip link add link vlan20 name vlan102 type vlan id 102",
        context=ctx)
    adapter("cinder.volume.flows.manager.create_volume").info(
        "Volume %s: being created as image with specification: {}", VOLUME, context=ctx)
    adapter("cinder.volume.manager").info("Volume %s could not be found.", VOLUME)
    return buf.getvalue().splitlines()


class VolumeNotCreated(Exception):  # what nova raises, under nova's name
    __module__ = "nova.exception"


def _volume_not_created() -> Exception:
    return VolumeNotCreated(NOT_CREATED)


def _prefixed(lines: list[str], prefix: str) -> list[str]:
    return [prefix + line for line in lines] if prefix else lines


def _parse(lines: list[str], kind: str, fmt: Any = None) -> list[Event]:
    return list(parse_lines(lines, f"{kind}.log", kind, year=2026, log_format=fmt))


PREFIXES = {"bare": "", "journald": "Dec 02 06:42:21 compute-1 nova-compute[10696]: "}


def _cases() -> Iterator[Any]:
    for name in FORMATS:
        for prefix in PREFIXES:
            yield pytest.param(name, prefix, id=f"{name}-{prefix}")


@pytest.mark.parametrize(("name", "prefix"), _cases())
def test_nova_compute_records_read_back(name: str, prefix: str) -> None:
    options, writes = FORMATS[name]
    lines = _emit(options)
    fmt = format_from_config(options) if name == "site" else None  # declared vs known
    compute = [line for line in lines if "nova.compute" in line or "processutils" in line]
    events = _parse(_prefixed(compute, PREFIXES[prefix]), "nova-compute", fmt)
    by_type = {e.type: e for e in events}
    assert sorted(by_type) == ["host.network.interface", "nova.compute.block_device_setup_failed",
                               "nova.compute.volume_not_created"], lines
    assert len(events) == 3  # one record is one failure, not two
    failed = by_type["nova.compute.block_device_setup_failed"]
    not_created = by_type["nova.compute.volume_not_created"]
    for event in (failed, not_created):
        assert event.request_id == REQ
        assert event.instance_id == INSTANCE
        assert event.data["logger"] == "nova.compute.manager"
        assert event.severity == "error"
        if writes == "ids":
            assert (event.user_id, event.project_id) == (USER, PROJECT)
        else:  # DevStack writes names: project first, then user
            assert (event.user_id, event.project_id) == (None, None)
            assert (event.data["user_name"], event.data["project_name"]) == ("alice", "demo")
        if prefix == "journald":
            assert event.host == "compute-1"
    assert "nova.exception.VolumeNotCreated" in failed.data["message"]  # oslo.log's summary
    assert not_created.volume_id == VOLUME
    assert {k: not_created.data[k] for k in ("seconds", "attempts", "volume_status")} == {
        "seconds": 3, "attempts": 2, "volume_status": "error"}
    vlan = by_type["host.network.interface"]
    assert vlan.data["logger"] == "oslo_concurrency.processutils"
    assert vlan.severity == "debug"
    assert {k: vlan.data[k] for k in ("name", "link", "kind", "vlan_id", "mtu")} == {
        "name": "vlan102", "link": "vlan20", "kind": "vlan", "vlan_id": 102, "mtu": None}


@pytest.mark.parametrize(("name", "prefix"), _cases())
def test_cinder_volume_records_read_back(name: str, prefix: str) -> None:
    options, writes = FORMATS[name]
    fmt = format_from_config(options) if name == "site" else None
    lines = [line for line in _emit(options) if "cinder." in line]
    events = _parse(_prefixed(lines, PREFIXES[prefix]), "cinder-volume", fmt)
    assert [e.type for e in events] == ["cinder.volume.volume_creating",
                                        "cinder.volume.volume_not_found"], lines
    creating, not_found = events
    assert creating.volume_id == not_found.volume_id == VOLUME
    assert creating.request_id == REQ and creating.global_request_id == (
        None if name in ("pre-pike", "site") else GREQ)
    assert creating.data["logger"] == "cinder.volume.flows.manager.create_volume"
    assert not_found.request_id is None and not_found.data["logger"] == "cinder.volume.manager"
    assert creating.severity == not_found.severity == "info"
    if writes == "ids":
        assert (creating.user_id, creating.project_id) == (USER, PROJECT)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_json_formatter_records_read_back(prefix: str) -> None:
    lines = _emit({}, json=True)
    compute = [line for line in lines if '"nova.compute' in line or "processutils" in line]
    events = _parse(_prefixed(compute, PREFIXES[prefix]), "nova-compute")
    types = sorted(e.type for e in events)
    assert types == ["host.network.interface", "nova.compute.block_device_setup_failed",
                     "nova.compute.volume_not_created"]
    for event in events:
        assert event.request_id == REQ and event.global_request_id == GREQ
        assert (event.user_id, event.project_id) == (USER, PROJECT)
        assert event.data["user_name"] == "alice" and event.data["project_name"] == "demo"
    failed = next(e for e in events if e.type.endswith("block_device_setup_failed"))
    assert failed.instance_id == INSTANCE and failed.data["message"] == \
        "Instance failed block device setup"
    not_created = next(e for e in events if e.type.endswith("volume_not_created"))
    assert not_created.instance_id == INSTANCE and not_created.volume_id == VOLUME
    assert not_created.data["volume_status"] == "error"
    cinder = _parse([line for line in lines if '"cinder.' in line], "cinder-volume")
    assert [e.type for e in cinder] == ["cinder.volume.volume_creating",
                                        "cinder.volume.volume_not_found"]


def test_a_declared_format_reads_only_its_own_lines() -> None:
    site = format_from_config(SITE)
    default_lines = [line for line in _emit({}) if "nova.compute" in line]
    # the site kept oslo.log's exception prefix: its traceback lines are the site's too
    # (no record line is read as the site's: no block_device_setup_failed)
    assert {e.type for e in _parse(default_lines, "nova-compute", site)} == {
        "nova.compute.volume_not_created"}
    assert oslo_format(SITE["logging_context_format_string"],
                       user_identity="%(user)s@%(project)s").layouts[0].regex.match(
        _emit(SITE)[0]) is not None


def test_vlan_on_a_vlan_is_known_by_kind_not_name() -> None:
    line = ("2026-03-03 10:00:00.101 2201 DEBUG oslo_concurrency.processutils [-] Running cmd "
            "(subprocess): ip link add {} execute /usr/lib/processutils.py:384")
    lines = [line.format("link eth0 name trunk type vlan id 20"),
             line.format("link trunk name vlan102 type vlan id 102"),
             line.format("link vlan9 name vlan103 type vlan id 103")]  # vlan9: never seen
    events = _parse(lines, "nova-compute")
    assert [(e.data["name"], e.data["link_kind"]) for e in events] == [
        ("trunk", None), ("vlan102", "vlan"), ("vlan103", None)]
