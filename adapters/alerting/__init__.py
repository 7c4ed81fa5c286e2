"""Alerts out: the router (grouping, repeats, resolves, silences) and its sinks."""

from adapters.alerting.config import AlertingConfig, SinkConfig, build_router, build_sink
from adapters.alerting.delivery import RetryPolicy
from adapters.alerting.notice import Notice
from adapters.alerting.router import Router
from adapters.alerting.silences import Silence, SilenceFile
from adapters.alerting.sinks.terminal import TerminalSink

__all__ = [
    "AlertingConfig",
    "Notice",
    "RetryPolicy",
    "Router",
    "Silence",
    "SilenceFile",
    "SinkConfig",
    "TerminalSink",
    "build_router",
    "build_sink",
]
