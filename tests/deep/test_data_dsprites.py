"""Procedural dSprites (Higgins et al. 2017, sec. 4.2): the grid, the bijection,
the renderer against a direct whole-image renderer, the cache, bad input."""

import numpy as np
import pytest

from deep.data import DSprites, full_grid
from deep.data import dsprites as ds


def test_full_grid_size_and_interface():
    d = DSprites()
    assert len(d) == 737_280 == 3 * 6 * 40 * 32 * 32          # Higgins sec. 4.2
    assert d.factor_sizes == (3, 6, 40, 32, 32)
    img, f = d[123_457]
    assert tuple(img.shape) == (1, 64, 64) and str(img.dtype) == "torch.float32"
    assert tuple(f.shape) == (5,) and str(f.dtype) == "torch.int64"
    assert d.index_of(f.numpy()[None])[0] == 123_457


def test_index_factor_bijection_matches_nested_loop_order(rng):
    d = DSprites()
    idx = rng.integers(0, len(d), size=500)
    f = d.factors_of(idx)
    # oracle: the row-major nested-loop order of the dSprites archive
    brute = ((((f[:, 0] * 6 + f[:, 1]) * 40 + f[:, 2]) * 32 + f[:, 3]) * 32 + f[:, 4])
    np.testing.assert_array_equal(brute, idx)
    np.testing.assert_array_equal(d.index_of(f), idx)


def _direct_render(f, binary=True):
    """Oracle: supersample the whole 64x64 image directly (no patches, no translation)."""
    ss = ds.SUPERSAMPLE
    sub = (np.arange(64 * ss) + 0.5) / ss
    vals = ds.factor_values()
    cx, cy = vals["pos_x"][f[3]], vals["pos_y"][f[4]]
    th, r = vals["orientation"][f[2]], 8.0 * vals["scale"][f[1]]
    dx, dy = sub[None, :] - cx, sub[:, None] - cy
    u1 = (np.cos(th) * dx + np.sin(th) * dy) / r
    u2 = (-np.sin(th) * dx + np.cos(th) * dy) / r
    cnt = ds._inside(int(f[0]), u1, u2).reshape(64, ss, 64, ss).sum(axis=(1, 3))
    return (cnt * 2 >= ss * ss).astype(np.float32) if binary else (cnt / ss ** 2).astype(np.float32)


def test_patch_renderer_equals_direct_whole_image_render(rng):
    d = DSprites()
    f = d.sample_factors(40, rng)
    f[:4] = [[0, 5, 7, 0, 31], [1, 5, 3, 31, 0], [2, 5, 39, 0, 0], [2, 5, 11, 31, 31]]  # corners
    got = d.render(f)
    grey = DSprites(binary=False).render(f)
    for i in range(len(f)):
        np.testing.assert_array_equal(got[i, 0], _direct_render(f[i]))
        np.testing.assert_allclose(grey[i, 0], _direct_render(f[i], binary=False), atol=1e-7)


@pytest.mark.parametrize("shape,area", [(0, 1.4 ** 2), (1, np.pi * 0.5)])
def test_sprite_area_matches_the_shape(shape, area):
    # grey coverage sums to the area (r = 8 s px) up to the sub-sampling error of the boundary:
    # each of the ~perimeter boundary pixels is off by at most 1/SS of its area per crossing row
    d = DSprites(binary=False)
    r = 8.0
    img = d.render([[shape, 5, 3, 16, 16]])[0, 0]
    perimeter = (4 * 1.4 if shape == 0 else 4.85) * r
    assert abs(img.sum() - area * r * r) <= perimeter / ds.SUPERSAMPLE


@pytest.mark.parametrize("shape,period", [(0, 10), (1, 20)])
def test_rotational_symmetry(shape, period):
    # square: symmetric under pi/2 (10 steps of 2pi/40), ellipse under pi (20 steps)
    d = DSprites(binary=False)
    a = d.render([[shape, 4, 3, 10, 17]])
    b = d.render([[shape, 4, 3 + period, 10, 17]])
    np.testing.assert_allclose(a, b, atol=1.5 / 64)   # at most one boundary sub-sample differs


def test_reduced_grid_is_a_subgrid_of_the_full_one():
    red, full = DSprites.reduced(), DSprites()
    assert red.factor_sizes == (3, 6, 10, 8, 8) and len(red) == 11_520
    f = red.factors_of(np.arange(0, len(red), 997))
    mapped = f * np.array([1, 1, 4, 4, 4])
    np.testing.assert_array_equal(red.render(f), full.render(mapped))


def test_cache_roundtrip_and_corruption(tmp_path):
    d = DSprites(n_scales=2, n_orientations=2, n_positions=4, cache_dir=tmp_path)
    idx = np.array([5, 0, 77, 5, 3])
    lazy = d.images(idx)
    path = d.build_cache()
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.stat().st_size < len(d) * 4096 // 8 + 1024          # bit-packed
    np.testing.assert_array_equal(d.images(idx), lazy)
    again = DSprites(n_scales=2, n_orientations=2, n_positions=4, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.images(idx), lazy)
    path.write_bytes(b"not a numpy file")
    with pytest.raises(ValueError, match="corrupted"):
        DSprites(n_scales=2, n_orientations=2, n_positions=4, cache_dir=tmp_path)


def test_bad_input():
    with pytest.raises(ValueError, match="n_positions"):
        DSprites(n_positions=5)
    d = DSprites.reduced()
    with pytest.raises(ValueError, match="out of range"):
        d.render([[3, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match="shape"):
        d.index_of([[0, 0, 0, 0]])
    with pytest.raises(TypeError, match="discrete"):
        d.render([[0, 0.5, 0, 0, 0]])
    with pytest.raises(IndexError):
        d[len(d)]
    with pytest.raises(ValueError, match="binary"):
        DSprites(binary=False, n_positions=1).build_cache()


def test_full_grid_helper_is_in_index_order():
    g = full_grid((2, 3, 4))
    np.testing.assert_array_equal(g[:, 0] * 12 + g[:, 1] * 4 + g[:, 2], np.arange(24))


def test_materialized_images_equal_the_rendered_ones():
    lazy = DSprites(n_scales=2, n_orientations=4, n_positions=8)
    mem = DSprites(n_scales=2, n_orientations=4, n_positions=8).materialize()
    idx = np.random.default_rng(0).permutation(len(lazy))[:300]
    np.testing.assert_array_equal(mem.images(idx), lazy.images(idx))
    with pytest.raises(ValueError, match="binary"):
        DSprites(n_scales=2, n_orientations=4, n_positions=8, binary=False).materialize()


def test_patch_table_is_kept_between_processes_and_recomputed_when_damaged(tmp_path, monkeypatch):
    """The on-disk table equals a fresh computation (the oracle); a damaged file is recomputed
    (the computation is counted) and rewritten; an unwritable cache location still gives the
    table."""
    from deep.data import dsprites as D

    fresh = D._compute_patch_table()
    calls = []
    monkeypatch.setattr(D, "_compute_patch_table", lambda: calls.append(1) or fresh.copy())
    monkeypatch.setattr(D, "_table_digest", lambda: "test")
    monkeypatch.setenv("BETALAB_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "cache" / "dsprites_patch_test.npy"
    for damage, computed in ((None, 1), ("reuse", 0), (b"not a numpy file", 1), ("wrong-shape", 1)):
        if damage == "wrong-shape":
            np.save(path, np.zeros((2, 2), np.uint8))
        elif isinstance(damage, bytes):
            path.write_bytes(damage)
        D.patch_table.cache_clear()
        calls.clear()
        got = D.patch_table()
        assert len(calls) == computed, damage
        np.testing.assert_array_equal(got, fresh)
        assert not got.flags.writeable
        assert np.array_equal(np.load(path), fresh)
    (tmp_path / "blocked").write_text("a file where the cache directory would be")
    monkeypatch.setenv("BETALAB_CACHE_DIR", str(tmp_path / "blocked" / "cache"))
    D.patch_table.cache_clear()
    np.testing.assert_array_equal(D.patch_table(), fresh)
    D.patch_table.cache_clear()


def test_patch_table_digest_follows_the_renderer_constants(monkeypatch):
    """The cache file's name is stable, and changes when a constant of the renderer does."""
    from deep.data import dsprites as D

    a = D._table_digest()
    assert a == D._table_digest() and len(a) == 16
    monkeypatch.setattr(D, "SUPERSAMPLE", D.SUPERSAMPLE // 2)
    assert D._table_digest() != a
