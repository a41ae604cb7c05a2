"""Sikka 2020, Results, Fig 4 (Methods: "Realistic Simulation Methods"): deep β-VAEs on mixed
digits.

Study ``sikka-fig4``: x = A s + η with the columns of A two digit images
(:func:`deep.data.digits.mixed_digits`), linear-Gaussian in s, so the ground-truth posterior is
eq 28 in closed form. The four curves A–D (ELBO, TIE, reconstruction, CI loss) against β over
100 initialisations per β. The settings, data, training and numbers the two deep studies share
are in :mod:`betalab.studies.sikka2020._deep`, their claims in
:mod:`~betalab.studies.sikka2020._deep_claims` and their figures in
:mod:`~betalab.studies.sikka2020._deep_figures`.
"""

from __future__ import annotations

import numpy as np

from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.sikka2020._deep import study_numbers
from betalab.studies.sikka2020._deep_claims import claims_from_numbers
from betalab.studies.sikka2020._deep_figures import curve_figures
from betalab.studies.sikka2020._shared import PAPER


# ============================================================================ the check
def linear_tie_check(A, beta: float, n: int, rng: np.random.Generator) -> dict:
    """The TIE pipeline of the deep studies (closed-form posterior, per-point KL, minimum over
    signed permutations: the path of :func:`~betalab.studies.sikka2020._deep.piece_numbers`) on
    the linear β-VAE's optimal encoder (:func:`linear_models.linear_vae.optimum`) with
    x = A s + η, η ~ N(0, I), by Monte Carlo over
    n draws of x; the oracle is the closed form :func:`linear_models.linear_vae.tie_aligned`
    (Sikka 2020, eqs 45–46 corrected, minimised over the same group)."""
    from deep.metrics import inference_error as I
    from linear_models import linear_vae as L
    from theory.linear_vae import data_covariance

    p = L.optimum(data_covariance(A), A.shape[1], beta, reference=A).params
    x = rng.standard_normal((n, A.shape[1])) @ A.T + rng.standard_normal((n, A.shape[0]))
    mu, var = x @ p.W_mu.T, np.broadcast_to(np.exp(p.b_sigma), (n, A.shape[1]))
    m, E = I.gaussian_posterior(x, A, 1.0)
    tie, Q, _ = I.aligned_tie(lambda a, b: I.gaussian_kl_per_point(a, b, m, E), mu, var)
    per_point = I.gaussian_kl_per_point(*I.apply_signed_permutation(Q, mu, var), m, E)
    return {"mc": tie, "se": float(per_point.std() / np.sqrt(n)),
            "closed_form": float(L.tie_aligned(A, [beta])[0]), "beta": beta, "n": n}


# ============================================================================ the study
@study("sikka-fig4", title="Deep β-VAE on mixed digits: ELBO, TIE, reconstruction, CI loss vs β",
       paper=PAPER, source="Results, Fig 4; Methods", notebook="sikka2020_fig4_mixed_digits.py",
       recheck=claims_from_numbers)
def fig4(config: StudyConfig) -> StudyResult:
    numbers, data, _ = study_numbers(config, "fig4")
    numbers["checks"]["linear"] = linear_tie_check(data["A"], 2.0, 20_000, config.rng(2))
    figures = curve_figures(numbers)
    return StudyResult(numbers, figures, claims_from_numbers(numbers, config.seed))
