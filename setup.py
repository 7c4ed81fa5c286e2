"""Packaging beside setup.cfg (which holds the metadata): the list of packages.

The rule pack (``rules/``) and the demo days (``demo/``) stay top-level folders of
the repository, as the design card lays it out, but ship inside the
``dreamcatcher`` package, so an installed copy finds them through
``importlib.resources`` and never through the checkout's layout. setup.cfg cannot
map a folder to a subpackage next to ``packages = find:``, hence this file.
"""

from setuptools import find_packages, setup

#: installed package name -> the repository folder it is built from
DATA_PACKAGES = {
    "dreamcatcher.rulepack": "rules",
    "dreamcatcher.demodata": "demo",
}

setup(
    packages=[
        *find_packages(include=["engine", "engine.*", "adapters", "adapters.*",
                                "dreamcatcher", "dreamcatcher.*"]),
        *DATA_PACKAGES,
    ],
    package_dir=DATA_PACKAGES,
)
