"""The model zoo: the catalog of known models and their cards (:mod:`~segwb.zoo.catalog`), how each is obtained
(:mod:`~segwb.zoo.sources`), checksummed and resumable downloads (:mod:`~segwb.zoo.download`), and whether each is
cached, downloadable or unavailable here (:mod:`~segwb.zoo.status`). Built on :mod:`segwb.io` and :mod:`segwb.core`.
"""
