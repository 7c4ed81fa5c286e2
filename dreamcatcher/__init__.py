"""The application layer: wires engine and adapters into commands."""

from pathlib import Path

#: Where the repository's shipped rule pack and demo data live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
