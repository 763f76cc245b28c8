"""The packages to install: segwb and widgets as found, their folders of templates (the report pages, the
dashboard's Voila page), and the repository's data/ folder as ``segwb.data`` (the design card keeps data/ at the top
level, and a mapped package cannot be listed in pyproject.toml beside a package search)."""

from setuptools import find_namespace_packages, find_packages, setup

setup(packages=[*find_packages(include=["segwb", "segwb.*", "widgets", "widgets.*"]),
                *find_namespace_packages(include=["segwb.*.templates", "widgets.voila*"]), "segwb.data"],
      package_dir={"segwb.data": "data"})
