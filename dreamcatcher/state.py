"""Which StateStore a command uses: the config's ``state`` section, overridden
by ``--state-url`` / ``--state-prefix``; memory when neither names Redis."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from adapters.state import StateConfig, StoreUnavailable, build_store
from dreamcatcher.config import load_config
from dreamcatcher.errors import RuntimeFailure, UsageError, redact_text, redact_url
from engine.store import StateStore
from engine.yamlsource import SourceError, validation_problems


def add_state_options(parser: Any) -> None:
    parser.add_argument("--state-url", default=None,
                        help="keep engine state in Redis, shared by workers "
                             "(e.g. redis://127.0.0.1:6379/0; default: in memory)")
    parser.add_argument("--state-prefix", default=None,
                        help="key prefix (namespace) in Redis (default: dreamcatcher:)")


def store_from_args(args: argparse.Namespace) -> StateStore:
    """The store, contacted now: a bad config, URL or a server that is down is one
    ``RuntimeFailure`` line naming the URL (password hidden) and the cause."""
    try:
        config = load_config(args.config).state if args.config else StateConfig()
    except SourceError as exc:
        raise RuntimeFailure("config", str(exc)) from None
    update = {name: value for name, value in
              (("url", args.state_url), ("prefix", args.state_prefix)) if value is not None}
    if update:
        try:
            config = StateConfig.model_validate({**config.model_dump(), **update})
        except ValidationError as exc:
            loc, message = validation_problems(exc)[0]
            raise UsageError("state", f"--state-{loc[0]}: {message}") from None
    try:
        return build_store(config)
    except StoreUnavailable as exc:
        raise RuntimeFailure("state", f"cannot use {redact_url(exc.url)}: "
                             f"{redact_text(exc.reason, exc.url)}") from None
