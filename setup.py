"""The packages to install: segwb and widgets as found, their folders of templates, and the repository's data/
folder as ``segwb.data`` (the design card keeps data/ at the top level; a mapped package cannot be listed in
pyproject.toml beside a search)."""

from setuptools import find_namespace_packages, find_packages, setup

setup(packages=[*find_packages(include=["segwb", "segwb.*", "widgets", "widgets.*"]),
                *find_namespace_packages(include=["segwb.*.templates"]), "segwb.data"],
      package_dir={"segwb.data": "data"})
