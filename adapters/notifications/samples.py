"""Expand nova's notification-sample templates (``{"$ref": "file.json#", ...overrides}``).

nova's doc samples are not standalone messages: payloads point at shared files
under ``common_payloads/`` and sibling keys next to a ``$ref`` override parts of
the referenced object (deep merge). The semantics follow nova's test helper
(``nova/tests/json_ref.py``): refs resolve relative to the referencing file,
only whole-file refs (nothing after ``#``) exist, overrides merge recursively
into dicts and replace everything else. Used by tests and by replay.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


class SampleError(ValueError):
    """A ``$ref`` that cannot be followed (missing file, JSON pointer, cycle)."""


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into ``base`` (in place); non-dicts replace."""
    for key, value in overrides.items():
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            base[key] = _merge(current, value)
        else:
            base[key] = value
    return base


def _load(path: Path, seen: tuple[Path, ...], cache: dict[Path, Any]) -> Any:
    if path in seen:
        raise SampleError(f"$ref cycle: {' -> '.join(str(p) for p in (*seen, path))}")
    if path not in cache:
        try:
            cache[path] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SampleError(f"cannot read $ref target {path}: {exc}") from exc
    return _expand(copy.deepcopy(cache[path]), path.parent, (*seen, path), cache)


def _expand(node: Any, base: Path, seen: tuple[Path, ...], cache: dict[Path, Any]) -> Any:
    if isinstance(node, list):
        return [_expand(item, base, seen, cache) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise SampleError(f"$ref must be a string, got {ref!r}")
        target, _, pointer = ref.partition("#")
        if pointer:
            raise SampleError(f"$ref with a JSON pointer is not supported: {ref}")
        resolved = _load((base / target).resolve(), seen, cache)
        overrides = {k: _expand(v, base, seen, cache) for k, v in node.items() if k != "$ref"}
        if not isinstance(resolved, dict):
            if overrides:
                raise SampleError(f"$ref {ref} is not an object but has overrides")
            return resolved
        return _merge(resolved, overrides)
    return {key: _expand(value, base, seen, cache) for key, value in node.items()}


def has_refs(node: Any) -> bool:
    """Whether a decoded document still contains a ``$ref`` anywhere."""
    if isinstance(node, dict):
        return "$ref" in node or any(has_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(has_refs(v) for v in node)
    return False


def expand_refs(document: Any, base_dir: Path) -> Any:
    """Return ``document`` with every ``$ref`` replaced, relative to ``base_dir``."""
    return _expand(document, base_dir.resolve(), (), {})


def load_sample(path: Path) -> Any:
    """Read one JSON sample file and expand its refs (a no-op for plain files)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SampleError(f"{path}: not JSON: {exc}") from exc
    return expand_refs(document, path.parent) if has_refs(document) else document
