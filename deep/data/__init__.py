"""Procedural ground-truth datasets (no downloads) and the protocol metrics use."""

from deep.data.dsprites import FACTOR_NAMES, FULL_FACTOR_SIZES, DSprites, factor_values
from deep.data.ground_truth import GroundTruthData, factors_of, full_grid, index_of

__all__ = ["DSprites", "FACTOR_NAMES", "FULL_FACTOR_SIZES", "GroundTruthData", "factor_values",
           "factors_of", "full_grid", "index_of"]
