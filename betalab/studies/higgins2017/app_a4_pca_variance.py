"""Higgins et al. 2017, App. A.4: "PCA components explain 60.8% of variance" — the fraction of
the pixel variance of dSprites the ten whitened principal components of Fig. 5 (left)'s PCA row
explain, measured on the procedural images with betalab's PCA and checked against
scikit-learn's on an independent sample (its sampling error from disjoint random subsets).
Part of the study ``higgins-fig5-table`` (:mod:`betalab.studies.higgins2017.fig5_left`, which
fits the PCA and passes it here)."""

from __future__ import annotations

import math

import numpy as np

from betalab import claims as C
from betalab.registry import StudyConfig
from betalab.studies.higgins2017._shared import SRC

PRINTED_PCA_VARIANCE = 60.8       # App. A.4: "PCA components explain 60.8% of variance"


def pca_variance_numbers(config: StudyConfig, data, pca_rows: np.ndarray, pca_fit) -> dict:
    """The variance fraction of the ten components of ``pca_fit()`` (fitted on ``pca_rows`` of
    ``data``), scikit-learn's on a separate uniform sample, and scikit-learn's on four disjoint
    random subsets of that sample (the fraction's sampling spread); a piece of
    ``config.partial`` of its own, so a resumed run does not refit the PCA."""
    n = len(data)
    # an independent implementation of the same fraction: scikit-learn's PCA on a separate
    # uniform sample of the grid (its own rows, so the two differ by sampling error only)
    from sklearn.decomposition import PCA

    check_rows = np.sort(np.random.default_rng([config.seed, 12]).choice(
        n, min(n, 20_000), replace=False))

    def sk_fraction(r):
        return float(PCA(10, svd_solver="randomized", random_state=config.seed).fit(
            data.images(r).reshape(r.size, -1).astype(np.float64)).explained_variance_ratio_.sum())

    # the variance fractions are a piece of their own: a resumed run does not refit the PCA
    key, sig = "pca-variance", {"pca_rows": int(pca_rows.size), "n": n, "seed": config.seed}
    var = config.piece(key, sig, lambda: {
        "ours": float(pca_fit()["explained_variance_ratio"].sum()),
        "sklearn": sk_fraction(check_rows),
        # the sampling spread of the fraction: four disjoint random subsets of the check sample
        # (a random partition: contiguous quarters of the sorted sample would be stratified by
        # shape, the grid's slowest index)
        "quarters": [sk_fraction(np.sort(q)) for q in np.array_split(
            np.random.default_rng([config.seed, 13]).permutation(check_rows), 4)],
        "quarters_random": True})
    return {"pca_explained_variance": float(var["ours"]),
            "pca_fit_rows": int(pca_rows.size),
            "pca_explained_variance_sklearn": float(var["sklearn"]),
            "pca_check_rows": int(check_rows.size),
            "pca_fraction_quarters": [float(q) for q in var["quarters"]],
            "pca_quarters_random": bool(var.get("quarters_random", False))}


def pca_variance_claims(numbers: dict, scale: str, where: str) -> tuple:
    """The check (betalab's fraction against scikit-learn's, 4 sampling standard errors) and
    App. A.4's printed 60.8% against the measured fraction; ``where`` describes the scale."""
    pv, ps = 100 * numbers["pca_explained_variance"], 100 * numbers["pca_explained_variance_sklearn"]
    # sampling error of the fraction from replicas: the spread of K disjoint random subsets of the
    # check sample (a random partition, so no subset is stratified by the grid's index order),
    # scaled (sd ∝ 1/sqrt(n)) to the two samples compared; 4 standard errors
    q = np.asarray(numbers["pca_fraction_quarters"])
    n_q = numbers["pca_check_rows"] / len(q)
    se = 100 * q.std(ddof=1) * math.sqrt(n_q) * math.sqrt(
        (1 / numbers["pca_fit_rows"] if numbers["pca_fit_rows"] < numbers["n_images"] else 0)
        + 1 / numbers["pca_check_rows"])
    stratified = not numbers.get("pca_quarters_random", False)
    check = C.close(
        f"[{scale} scale] the top ten principal components explain {pv:.1f}% of the pixel variance "
        "of the procedural dSprites (scikit-learn's PCA on an independent sample agrees)", SRC,
        ps, pv, atol=4 * se, kind="check", scale=scale,
        note=f"betalab's PCA on {numbers['pca_fit_rows']:,} images vs scikit-learn's on another "
             f"{numbers['pca_check_rows']:,}; 4 standard errors ({se:.2f} points, from the spread "
             f"of {len(q)} disjoint subsets of the check sample"
             + (": caveat, this recorded run split a sorted sample into contiguous subsets, "
                "which stratifies them by shape and overstates the error)" if stratified else
                ", a random partition)"))
    paper = C.close(
        f"App. A.4: the ten PCA components explain {PRINTED_PCA_VARIANCE}% of the variance "
        f"[{where}]", SRC, PRINTED_PCA_VARIANCE, pv, atol=max(0.5, 4 * se), kind="paper",
        scale=scale,
        note=f"the ten components explain {pv:.1f}% of the procedural images' variance; tolerance: "
             "the printed rounding (0.5 points) or 4 sampling standard errors, the larger. The "
             "images are a procedural re-rendering of dSprites: a disagreement fails to reproduce "
             "the number on them, it does not show the printed number wrong.")
    return check, paper
