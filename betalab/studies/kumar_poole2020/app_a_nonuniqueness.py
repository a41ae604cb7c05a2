"""Kumar & Poole 2020, App. A: study ``kp-nonuniqueness``.

The mixing transforms r = F⁻¹∘Φ∘U∘Φ⁻¹∘F that leave a factorised (Laplace) prior invariant, and
their Darmois version for a correlated (bivariate Student-t) prior; the paper's ``|det J_r| = 1``
statement against the change of variables ``|det J_r(z)| = p(z)/p(r(z))``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from betalab.claims import as_printed, close, relation
from betalab.registry import StudyConfig, StudyResult, study

from ._shared import PAPER


def _laplace_prior(rng, n: int):
    """The factorised Laplace prior: invariance (chi-square), mixing (correlation) and the
    Jacobian determinant of r. Returns (numbers, claims, the figure's data: z, r, log|det J_r|)."""
    from linear_models import uniqueness as U

    claims, numbers = [], {}
    dist = stats.laplace()
    z = dist.rvs(size=(n, 2), random_state=rng)
    Urot = U.rotation_matrix(np.pi / 4)
    r = U.mixing_transform(z, Urot, dist)
    edges = dist.ppf(np.linspace(0, 1, 7)[1:-1])
    counts = np.bincount(np.digitize(r[:, 0], edges) * 6 + np.digitize(r[:, 1], edges), minlength=36)
    p_chi = float(stats.chisquare(counts).pvalue)
    numbers["laplace_chi2_pvalue"] = p_chi
    claims.append(relation("r = F^-1 o Phi o U o Phi^-1 o F leaves a factorised Laplace prior "
                           "invariant (chi-square over 36 prior-equiprobable cells)",
                           f"{PAPER}, App. A", "p-value > 0.001", p_chi, p_chi > 1e-3,
                           tolerance=f"chi-square test at level 1e-3, n = {n}, fixed seed", kind="paper"))
    corr = float(np.corrcoef(z[:, 1], r[:, 0])[0, 1])
    numbers["mixing_corr"] = corr
    claims.append(relation("r mixes the latents: r_1(z) depends on z_2", f"{PAPER}, App. A",
                           "|corr(z_2, r_1)| > 10/sqrt(n)", corr, abs(corr) > 10 / np.sqrt(n),
                           tolerance="10 standard errors of a null correlation (1/sqrt(n))", kind="paper"))
    zz = z[:500]
    Jfd = U.numerical_jacobian(lambda w: U.mixing_transform(w, Urot, dist), zz)
    logdet = np.log(np.abs(np.linalg.det(Jfd)))
    ratio = dist.logpdf(zz).sum(-1) - dist.logpdf(U.mixing_transform(zz, Urot, dist)).sum(-1)
    numbers.update(max_abs_logdet=float(np.max(np.abs(logdet))),
                   max_err_prior_ratio=float(np.max(np.abs(logdet - ratio))))
    claims += as_printed(
        "The mixing transform has |det J_r(z)| = 1 (max |log|det J_r|| over 500 points)",
        f"{PAPER}, App. A", 0.0, float(np.max(np.abs(logdet))), atol=1e-5,
        basis="exact computation", why="Finite-difference Jacobians give |log|det J_r|| up to the value measured. The chain rule "
            "gives |det J_r(z)| = p(z)/p(r(z)) (1 only for the Gaussian prior); invariance r#p = p is "
            "what the argument needs (paired claim).",
        corrected=close("|det J_r(z)| = p(z)/p(r(z)) (finite differences, 500 points, max "
                        "abs error of the log)", f"{PAPER}, App. A (corrected)", 0.0,
                        float(np.max(np.abs(logdet - ratio))), atol=1e-5, kind="paper",
                        note="tolerance: central finite differences of step ~1e-6, error ~1e-8–1e-6"),
        kind="paper")
    return numbers, claims, (z, r, logdet)


def _correlated_prior(rng, n: int):
    """App. A, correlated priors: the Darmois mixing transform of a bivariate Student-t prior
    keeps its marginals and correlation, and |det J_r| = p(z)/p(r(z)). Returns (numbers, claims)."""
    from linear_models import uniqueness as U

    prior = U.BivariateStudentT(df=6.0, rho=0.6)
    zc = prior.sample(n, rng)
    rc = U.darmois_mixing_transform(zc, U.rotation_matrix(np.pi / 3), prior)
    pks = [float(stats.kstest(rc[:, i], stats.t(6.0).cdf).pvalue) for i in range(2)]
    claims = [relation("Correlated prior (bivariate t, nu=6, rho=0.6): the Darmois version "
                       "keeps the t_6 marginals (KS)", f"{PAPER}, App. A, correlated priors",
                       "both p-values > 0.001", pks, min(pks) > 1e-3,
                       tolerance=f"KS at level 1e-3, n = {n}, fixed seed", kind="paper")]
    boot = [np.corrcoef(prior.sample(n, rng).T)[0, 1] for _ in range(10)]
    cr = float(np.corrcoef(rc.T)[0, 1])
    claims.append(close("Correlated prior: the correlation rho = 0.6 is preserved",
                        f"{PAPER}, App. A, correlated priors", 0.6, cr,
                        atol=float(4 * np.std(boot)), kind="paper",
                        note=f"tolerance: 4 standard deviations of the sample correlation, from 10 fresh "
                             f"samples of size n = {n}"))
    zc5 = zc[:300]
    Jc = U.numerical_jacobian(
        lambda w: U.darmois_mixing_transform(w, U.rotation_matrix(np.pi / 3), prior), zc5)
    errc = float(np.max(np.abs(np.log(np.abs(np.linalg.det(Jc)))
                               - (prior.logpdf(zc5) - prior.logpdf(rc[:300])))))
    claims.append(close("Correlated prior: |det J_r| = p(z)/p(r(z)) pointwise (change of variables "
                        "<=> r#p = p)", f"{PAPER}, App. A (corrected)", 0.0, errc, atol=1e-5,
                        kind="extension", note="tolerance: central finite differences"))
    return {"corr_prior_ks_pvalues": pks}, claims


def _mixing_figure(z, r, logdet):
    """r#p = p for the Laplace prior, r₁ coloured over (z₁, z₂), and the histogram of log|det J_r|."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    m = 3000
    axes[0].scatter(z[:m, 0], z[:m, 1], s=2, alpha=0.4, label="z ~ Laplace⊗Laplace")
    axes[0].scatter(r[:m, 0], r[:m, 1], s=2, alpha=0.4, label="r(z)")
    axes[0].set(xlim=(-6, 6), ylim=(-6, 6), title="App. A: r#p = p (Laplace prior)",
                xlabel="z₁", ylabel="z₂")
    axes[0].legend(fontsize=8, markerscale=4)
    sc = axes[1].scatter(z[:m, 0], z[:m, 1], c=r[:m, 0], s=3, cmap="coolwarm",
                         vmin=-3, vmax=3)
    axes[1].set(xlim=(-6, 6), ylim=(-6, 6), title="r₁(z): depends on both z₁ and z₂ (mixing)",
                xlabel="z₁", ylabel="z₂")
    fig.colorbar(sc, ax=axes[1])
    axes[2].hist(logdet, bins=40)
    axes[2].set(xlabel="log|det J_r(z)| (finite differences)", ylabel="count",
                title="App. A states |det J_r| = 1; it is p(z)/p(r(z))")
    fig.tight_layout()
    return fig


@study("kp-nonuniqueness", title="Prior-preserving mixing transforms", paper=PAPER,
       source="App. A", notebook="kumar_poole2020_app_a_nonuniqueness.py")
def nonuniqueness(config: StudyConfig) -> StudyResult:
    rng = config.rng(1)        # one stream: the Laplace prior's draws, then the Student-t's
    n = 100_000 if config.full else 20_000
    numbers, claims, (z, r, logdet) = _laplace_prior(rng, n)
    corr_numbers, corr_claims = _correlated_prior(rng, n)
    numbers.update(corr_numbers)
    claims += corr_claims
    return StudyResult(numbers=numbers, figures={"mixing": _mixing_figure(z, r, logdet)},
                       claims=claims)
