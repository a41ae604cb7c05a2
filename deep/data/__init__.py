"""Procedural ground-truth datasets (no downloads), the protocol metrics use, and the
device-resident store training reads batches from."""

from deep.data.dsprites import FACTOR_NAMES, FULL_FACTOR_SIZES, DSprites, factor_values
from deep.data.ground_truth import GroundTruthData, factors_of, full_grid, index_of
from deep.data.stores import ArrayImages, DeviceStore, Subset, unpack_bits

__all__ = ["ArrayImages", "DSprites", "DeviceStore", "FACTOR_NAMES", "FULL_FACTOR_SIZES", "GroundTruthData", "Subset",
           "factor_values", "factors_of", "full_grid", "index_of", "unpack_bits"]
