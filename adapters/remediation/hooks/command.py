"""Run an external command the deployment allowed, as an argument list (never a shell)."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

from adapters.remediation.hooks.base import Hook, HookError, InvalidArgs
from adapters.remediation.shapes import PLACEHOLDER, admits


class CommandTimeout(HookError):
    """The command outlived its timeout and was killed."""


class CommandRun(Hook):
    """``with: {command: NAME, args: {key: value}}``; NAME must be in the config's ``commands``."""

    name = "command.run"

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        name = args.get("command")
        spec = self.config.commands.get(name) if isinstance(name, str) else None
        if spec is None:
            raise InvalidArgs(f"command {name!r} is not in the configured commands "
                              f"({sorted(self.config.commands)})")
        values = args.get("args") or {}
        if not isinstance(values, dict):
            raise InvalidArgs("args must be a mapping of placeholder to value")
        pattern = re.compile(spec.value_pattern)
        argv = []
        for part in spec.argv:
            def fill(match: re.Match[str]) -> str:
                key = match.group(1)
                value = values.get(key)
                if value is None:
                    raise InvalidArgs(f"command {name}: no value for {{{key}}}")
                value = str(value)
                shape = spec.placeholders.get(key)
                if not admits(shape, pattern, value):
                    raise InvalidArgs(f"command {name}: value for {{{key}}} is not "
                                      f"{'a ' + shape if shape else 'allowed'}: "
                                      f"{value[:80]!r}")
                return value
            argv.append(PLACEHOLDER.sub(fill, part))
        return {"command": name, "argv": argv}

    def target(self, args: dict[str, Any]) -> str:
        return f"command:{args['command']}:{' '.join(args['argv'][1:])}"

    def describe(self, args: dict[str, Any]) -> str:
        return f"would run {args['argv']!r}"

    def run(self, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        spec = self.config.commands[args["command"]]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **spec.env}
        try:
            done = subprocess.run(args["argv"], shell=False, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL, env=env,
                                  cwd=spec.cwd, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CommandTimeout(f"killed after {timeout:g}s") from exc
        except OSError as exc:
            raise HookError(f"cannot run {args['argv'][0]}: {exc}") from exc
        result = {"exit_code": done.returncode, "stdout": done.stdout[-2000:],
                  "stderr": done.stderr[-2000:]}
        if done.returncode != 0:
            raise HookError(f"exit code {done.returncode}: {done.stderr[-300:]}")
        return result
