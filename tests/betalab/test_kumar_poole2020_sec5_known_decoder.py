"""The known-decoder control of kp-trained-jacobian (Kumar & Poole 2020, sec. 5, eq 11): evaluated
along training, it ends on the numbers of a run evaluated only at its end; its folds carry the
claims' estimators."""

import numpy as np

from betalab.studies.common import ALONG
from betalab.studies.kumar_poole2020 import sec5_known_decoder as K
from betalab.studies.kumar_poole2020._trained_vae import FOLDS


def test_the_known_decoder_ends_on_its_end_point():
    end = K.manifold_control("diagonal", steps=8, seed=1)
    full = K.manifold_control("diagonal", steps=8, seed=1, along=ALONG)
    assert "along_steps" not in end and full["along_steps"].tolist() == [2, 4, 6, 8]
    for k in ("angle", "length_log_ratio", "eig_log_ratio"):
        np.testing.assert_array_equal(full[f"{k}_along"][-1], end[k])
        np.testing.assert_array_equal(full[k], end[k])
    assert full["angle_folds"].shape == (4, FOLDS)
    assert full["eig_log_ratio_folds"].shape == (4, FOLDS, K.MANIFOLD["k"])
