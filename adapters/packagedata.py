"""Folders of data shipped inside an installed package, as real paths.

The wheel carries the notification mappings, the rule pack and the demo days as
package data. They are found through ``importlib.resources``, never through the
repository's layout, so an installed copy works wherever it is; callers get a
``Path`` because the readers (rule loader, replay) walk folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_folder(package: str, *parts: str) -> Path:
    """The folder ``parts`` inside ``package``; ``FileNotFoundError`` names what is missing.

    A package imported from a zip archive has no folder to hand out: that is an
    error too, not a silent empty result.
    """
    root = files(package).joinpath(*parts)
    if not isinstance(root, Path) or not root.is_dir():
        where = "/".join((package.replace(".", "/"), *parts))
        raise FileNotFoundError(f"{where} is not installed as a folder ({root}); "
                                "reinstall dreamcatcher")
    return root
