"""PCA and FastICA codes of the Higgins et al. 2017 baselines (App. A.3) against scikit-learn and
a mixture with known sources."""

import numpy as np
import pytest

from deep.representations import fit_fastica, fit_pca, linear_codes


class _Images:
    """A dataset of flattened 16 × 16 "images" x = s A + noise with independent non-Gaussian
    sources s: images(rows) -> (m, 1, 16, 16), as deep.data.DSprites gives (64 × 64)."""

    def __init__(self, n=3000, k=3, seed=0):
        rng = np.random.default_rng(seed)
        self.s = rng.uniform(-1, 1, size=(n, k))                 # sub-Gaussian sources
        self.a = rng.normal(size=(k, 256))
        self.x = self.s @ self.a + 0.01 * rng.normal(size=(n, 256))

    def __len__(self):
        return len(self.x)

    def images(self, rows):
        return self.x[np.asarray(rows)].reshape(-1, 1, 16, 16)


def test_pca_matches_scikit_learn():
    from sklearn.decomposition import PCA

    data = _Images()
    rows = np.arange(len(data))
    ours = fit_pca(data, rows, 3, whiten=False)
    ref = PCA(3).fit(data.x)
    # float64 accumulation of the same covariance: agreement to rounding (1e-8 relative)
    np.testing.assert_allclose(ours["explained_variance_ratio"], ref.explained_variance_ratio_,
                               rtol=1e-8)
    # eigenvectors up to sign: the absolute cosines are 1
    cos = np.abs(np.sum(ours["components"] * ref.components_, axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-8)
    white = linear_codes(data, fit_pca(data, rows, 3, whiten=True))(rows)
    # whitened codes: identity covariance (population, ddof 0, as the fit), to rounding
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(3), atol=1e-8)


def test_fastica_recovers_known_sources():
    data = _Images()
    rows = np.arange(len(data))
    codes = linear_codes(data, fit_fastica(data, rows, 3, seed=1))(rows)
    corr = np.abs(np.corrcoef(codes.T, data.s.T)[:3, 3:])
    # each code matches one source (a permutation, up to sign): noise 1% of the signal gives
    # correlations above 0.99; a mixing left unresolved would leave some below 0.9
    assert np.all(corr.max(axis=1) > 0.99)
    assert sorted(corr.argmax(axis=1)) == [0, 1, 2]


def test_bad_input_names_the_parameter():
    data = _Images(n=50)
    with pytest.raises(ValueError, match="rows"):
        fit_pca(data, np.array([0.5, 1.5]), 3)
    with pytest.raises(ValueError, match="rows"):
        fit_pca(data, np.array([0, 50]), 3)
    with pytest.raises(ValueError, match="n_components"):
        fit_pca(data, np.arange(50), 0)


@pytest.fixture(scope="module")
def dsprites_pca_reference():
    """The oracle of both variants below, computed once: scikit-learn's PCA by LAPACK's full SVD
    of 1,500 reduced-dSprites images (the tests only read it)."""
    from sklearn.decomposition import PCA

    from deep.data import DSprites

    data = DSprites.reduced()
    rows = np.sort(np.random.default_rng(0).choice(len(data), 1500, replace=False))
    ref = PCA(10, svd_solver="full").fit(data.images(rows).reshape(1500, -1).astype(np.float64))
    return data, rows, ref


@pytest.mark.parametrize("budget", [None, 0], ids=["in-memory", "streamed"])
def test_pca_on_dsprites_images_matches_scikit_learn(budget, monkeypatch, dsprites_pca_reference):
    # the real spectrum (small gaps between the top components): subspace iteration against
    # LAPACK's full SVD of the same 1,500 images, with the pixels held in memory and streamed
    # chunk by chunk (budget 0)
    import deep.representations as R

    if budget is not None:
        monkeypatch.setattr(R, "PCA_IN_MEMORY_BYTES", budget)
    data, rows, ref = dsprites_pca_reference
    ours = fit_pca(data, rows, 10, whiten=False)
    # the Ritz-value sum is iterated to 1e-12 relative: the explained fraction agrees to 1e-9;
    # single eigenvalues converge with their gaps, checked to 1e-6
    assert abs(ours["explained_variance_ratio"].sum() - ref.explained_variance_ratio_.sum()) < 1e-9
    np.testing.assert_allclose(ours["explained_variance"], ref.explained_variance_ * 1499 / 1500,
                               rtol=1e-6)
