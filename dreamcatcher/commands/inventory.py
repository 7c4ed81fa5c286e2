"""``dreamcatcher inventory load FILE...``: validate snapshot dumps and summarise their facts."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from adapters.inventory import SnapshotError, facts_from_files
from dreamcatcher.errors import RuntimeFailure


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("inventory", help="inventory snapshots")
    sub = parser.add_subparsers(dest="inventory_command", required=True)
    load = sub.add_parser("load", help="read `openstack server|port|volume|network|hypervisor "
                          "list --long -f json` dumps and print what they seed")
    load.add_argument("files", nargs="+", type=argparse.FileType("rb"))
    load.set_defaults(handler=run_load)


def run_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    paths = [Path(f.name) for f in args.files]
    for f in args.files:
        f.close()
    try:
        facts = facts_from_files(paths)
    except (SnapshotError, OSError) as exc:
        raise RuntimeFailure("inventory load", str(exc)) from None
    kinds = Counter(f.kind for f in facts)
    linked = sum(1 for f in facts if f.kind == "port" and f.fields.get("device_id"))
    print(", ".join(f"{n} {k}s" for k, n in sorted(kinds.items())) or "no facts")
    if kinds["port"]:
        print(f"{linked} of {kinds['port']} ports tied to an instance (by device id or fixed IP)")
    return 0
