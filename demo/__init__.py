"""Demo data for a ModelLedger server, loaded through the Python client only.

Nothing here is drawn by hand: handwritten digits come from scikit-learn's `load_digits`
and are classified by two models trained on their training split; street scenes are
rendered with Pillow from a seeded random layout and "detected" by a noisy detector. The
result is something to click through in the web app right after `make demo`.
"""

from demo.loader import DemoSize, Loaded, load_demo

__all__ = ["DemoSize", "Loaded", "load_demo"]
