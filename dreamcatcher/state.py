"""Which StateStore a command uses: the config's ``state`` section, overridden
by ``--state-url`` / ``--state-prefix``; memory when neither names Redis."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.state import StateConfig, build_store
from dreamcatcher.config import load_config
from engine.store import StateStore


def add_state_options(parser: Any) -> None:
    parser.add_argument("--state-url", default=None,
                        help="keep engine state in Redis, shared by workers "
                             "(e.g. redis://127.0.0.1:6379/0; default: in memory)")
    parser.add_argument("--state-prefix", default=None,
                        help="key prefix (namespace) in Redis (default: dreamcatcher:)")


def store_from_args(args: argparse.Namespace) -> StateStore:
    config = load_config(args.config).state if args.config else StateConfig()
    update = {name: value for name, value in
              (("url", args.state_url), ("prefix", args.state_prefix)) if value is not None}
    if update:
        config = StateConfig.model_validate({**config.model_dump(), **update})
    return build_store(config)
