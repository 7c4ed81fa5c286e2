"""Durations in the deployment config and on the command line (``90s``, ``1h30m``, ``1w``).

They are read by the rule language's own parser, so a duration means the same
everywhere; here zero is allowed (a margin or back-off of nothing), negative is not.
"""

from __future__ import annotations

from engine.schema import parse_offset as parse_duration

__all__ = ["parse_duration"]
