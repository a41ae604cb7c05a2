"""linear-vae-fig3 (betalab.studies.sikka2020.fig3_linear_vae) runs in quick mode and keeps the
claims contract; the errata of Sikka 2020 decided here are checked against oracles of their own."""

import matplotlib.pyplot as plt
import numpy as np

from betalab.registry import StudyConfig, get
from linear_models import linear_vae as L
from theory import linear_vae as T


def test_linear_vae_fig3_claims(check_claims):
    res = get("linear-vae-fig3")(StudyConfig(seed=0))
    plt.close("all")
    check_claims("linear-vae-fig3", res.claims)


def test_eq23_premise_likelihood_peaks_at_beta_one():
    """Sikka eq 23's premise against the Gaussian log-likelihood of the optimal decoder, computed
    here from the eigen-decomposition (not the library's optimum): dividing the β-objective by β
    makes it VI for PPCA with noise βI, so DDᵀ = U(Λ − β)₊Uᵀ, and the model (noise I) has
    covariance DDᵀ + I."""
    A = T.thesis_mixing(8, 2)
    S = T.data_covariance(A)
    lam, U = np.linalg.eigh(S)
    betas = np.array([0.5, 0.8, 1.0, 1.25, 2.0])

    def loglik(beta):  # model covariance U diag((λ_i − β)₊ + 1 for the top 2, else 1) Uᵀ
        m = np.ones_like(lam)
        m[-2:] = np.maximum(lam[-2:] - beta, 0) + 1
        C = U @ np.diag(m) @ U.T
        return -0.5 * (8 * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, S)))

    ours = np.array([loglik(b) for b in betas])
    lib = L.optimum_terms(S, 2, betas)["log_likelihood"]
    np.testing.assert_allclose(lib, ours, rtol=1e-12)
    assert np.argmax(ours) == 2 and np.all(np.diff(ours[:3]) > 0) and np.all(np.diff(ours[2:]) < 0)
