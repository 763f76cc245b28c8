"""segwb's data files (the repository's ``data/`` folder), installed as the package ``segwb.data``."""
