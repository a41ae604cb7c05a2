"""Sikka 2020, Results, Fig 5 (Methods: "Realistic Simulation Methods"): deep β-VAEs on one
digit placed on a blank canvas.

Study ``sikka-fig5``: the digit's position p = A s + η, A_ij = 2δ_ij + 0.73
(:func:`deep.data.digits.placed_digit`); the posterior given the image is computed by quadrature
(:mod:`deep.metrics.inference_error`). The four curves A–D against β over 100 initialisations
per β, and Fig 5E: at large β the two latents encode the two axes of motion (traversals). The
settings, data, training and numbers the two deep studies share are in
:mod:`betalab.studies.sikka2020._deep`, their claims in
:mod:`~betalab.studies.sikka2020._deep_claims` and their figures in
:mod:`~betalab.studies.sikka2020._deep_figures`.
"""

from __future__ import annotations

import numpy as np

from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.sikka2020._deep import SCALES, TRAVERSAL_BETAS, study_numbers
from betalab.studies.sikka2020._deep_claims import claims_from_numbers
from betalab.studies.sikka2020._deep_figures import curve_figures
from betalab.studies.sikka2020._shared import PAPER


# ============================================================================ numbers
def member_model(piece: dict, side: int, widths):
    """Member 0 of a piece as a VAE (for traversals)."""
    import torch

    from deep.models import VAEConfig, build_vae

    m = build_vae(VAEConfig(arch="tanh3", latent_dim=2, likelihood="gaussian", image_size=side,
                            widths=tuple(widths)))
    m.load_state_dict({n[len("param__"):]: torch.as_tensor(np.asarray(v))
                       for n, v in piece.items() if n.startswith("param__")})
    return m.eval()


def traversals(model, data: dict, values=np.linspace(-2.5, 2.5, 7)) -> np.ndarray:
    """Fig 5E: decoder means, back in pixel units, with one latent swept over ``values`` and the
    other held at 0 (:func:`deep.traversal.latent_traversal`). Returns shape
    (2, len(values), side, side)."""
    import torch

    from deep.traversal import latent_traversal

    side = data["side"]
    img = latent_traversal(lambda z: model.decode(z).double(), torch.zeros(2), [0, 1], values)
    return (img.reshape(2, len(values), -1) * data["scale"] + data["mean"]).reshape(
        2, len(values), side, side)


def quadrature_check(A, width: float = 1e-3) -> dict:
    """The placement KL (Gauss–Hermite + adaptive quadrature) for a vanishing cell of side
    ``width`` around p0 against the closed form: the cell pins p, so p(s|x) → N(F p0, E) of
    eq 28 (2 × 2 A, unit noise), and the KL → :func:`theory.linear_vae.gaussian_kl`; the
    difference is O(width²)."""
    from deep.metrics import inference_error as I
    from theory.linear_vae import gaussian_kl, true_posterior

    p0 = np.array([[1.3, -0.4], [-2.2, 0.9]])
    mu, var = np.array([[0.2, -0.3], [-0.5, 0.4]]), np.array([[0.1, 0.3], [0.05, 0.2]])
    F, E = true_posterior(A)
    quad = I.placement_kl(mu, var, p0 - width / 2, p0 + width / 2, A)
    closed = gaussian_kl(mu, var, p0 @ F.T, E)
    return {"quadrature": quad, "closed_form": closed, "width": width,
            "max_abs_diff": float(np.max(np.abs(quad - closed)))}


# ============================================================================ figure
def traversal_figure(trav: dict, values):
    """Fig 5E: rows = (β, latent swept), columns = the swept value; the other latent at 0
    (:func:`betalab.plot.traversal_grid`, each image on its own grey scale)."""
    from betalab.plot import traversal_grid

    rows = [(b, j) for b in trav for j in range(2)]
    images = np.stack([trav[b][j] for b, j in rows])
    return traversal_grid(images, values, [f"β={b:g}\nz{j + 1}" for b, j in rows],
                          "Sikka 2020, Fig 5E: traversals of the two latents (initialisation 0)",
                          vmin=None, vmax=None, fontsize=8)


# ============================================================================ the study
@study("sikka-fig5", title="Deep β-VAE on a placed digit: the four curves vs β and traversals",
       paper=PAPER, source="Results, Fig 5; Methods", notebook="sikka2020_fig5_placed_digit.py",
       recheck=claims_from_numbers)
def fig5(config: StudyConfig) -> StudyResult:
    from deep.data.digits import placement_mixing

    numbers, data, pieces = study_numbers(config, "fig5")
    numbers["checks"]["quadrature"] = quadrature_check(placement_mixing())
    figures = curve_figures(numbers)
    widths = SCALES[config.scale]["widths"]
    values = np.linspace(-2.5, 2.5, 7)
    trav = {b: traversals(member_model(pieces[b], data["side"], widths), data, values)
            for b in TRAVERSAL_BETAS}
    figures["fig5e"] = traversal_figure(trav, values)
    return StudyResult(numbers, figures, claims_from_numbers(numbers, config.seed))
