"""The β-VAE objective's reference for dsprites-beta-vae-quick (Higgins et al. 2017, sec. 2,
eq. 4; betalab.studies.higgins2017.sec2_objective): the quadrature it is checked against."""

import numpy as np
import pytest

from betalab.studies.higgins2017.sec2_objective import objective_by_quadrature


def test_objective_by_quadrature_has_the_closed_form_kl_and_converged_nodes():
    """The quadrature reference: its KL equals the closed form (Gauss–Hermite is exact for a
    quadratic integrand), and 80 nodes agree with 160 (the reconstruction term has converged)."""
    import torch

    from deep.models import VAEConfig, build_vae
    from deep.models.distributions import kl_diag_gaussian_std_normal

    torch.manual_seed(0)
    model = build_vae(VAEConfig(latent_dim=1, hidden=8)).double()
    x = (torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(1)) < 0.2).double()
    a, b = objective_by_quadrature(model, x, 4.0), objective_by_quadrature(model, x, 4.0, n_nodes=160)
    mu, lv = model.encode(x)
    np.testing.assert_allclose(a["kl"], kl_diag_gaussian_std_normal(mu, lv).sum(-1).detach().numpy(),
                               rtol=1e-12)                                   # float64 rounding
    assert abs(a["loss"] - b["loss"]) < 1e-9 * abs(b["loss"])
    with pytest.raises(ValueError, match="one latent"):
        objective_by_quadrature(build_vae(VAEConfig(latent_dim=2, hidden=8)).double(), x, 1.0)
