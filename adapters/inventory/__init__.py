"""Seeding the inventory from a snapshot of an existing cloud."""

from adapters.inventory.snapshot import SnapshotError, facts_from_files, facts_from_rows

__all__ = ["SnapshotError", "facts_from_files", "facts_from_rows"]
