"""segwb: segmentation-model optimization workbench for OpenVINO.

Pipeline: import (models, modelcard, zoo, datasets) → optimize (quantize) → benchmark →
compare (predict, semantic_metrics) → present (overlays, report_html); semantic_tutorial runs them in order.
"""

__version__ = "0.1.0"
