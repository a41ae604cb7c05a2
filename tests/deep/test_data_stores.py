"""deep.data.stores: the device-resident store gives the images of the CPU path, and a trainer
reading from it sees the same batches and takes the same steps as one reading from the dataset."""

import numpy as np
import pytest
import torch

from deep.data import DeviceStore, DSprites, Subset, unpack_bits
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import TrainConfig, Trainer, seeded_init

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images


def test_unpack_bits_inverts_numpy_packbits(rng):
    bits = rng.integers(0, 2, size=(5, 4096)).astype(np.uint8)
    packed = torch.from_numpy(np.packbits(bits, axis=1))            # oracle: numpy's bit order
    for method in ("auto", "torch", "numpy"):                       # the GPU path is "torch"
        out = unpack_bits(packed, method=method)
        assert out.dtype == torch.float32 and tuple(out.shape) == (5, 1, 64, 64)
        np.testing.assert_array_equal(out.reshape(5, -1).numpy(), bits)


def test_store_images_equal_the_rendered_ones(rng):
    store = DeviceStore(DSprites(n_scales=2, n_orientations=4, n_positions=8))   # lazy dataset
    assert store.packed and store.nbytes == len(DATA) * 512
    idx = rng.integers(0, len(DATA), size=50)                       # repeats and any order
    np.testing.assert_array_equal(store.images(idx).numpy(), DATA.images(idx))
    np.testing.assert_array_equal(store.images(torch.as_tensor(idx)).numpy(), DATA.images(idx))
    np.testing.assert_array_equal(store.factors_of(idx), DATA.factors_of(idx))  # protocol forwarded


def test_dense_store_for_grey_images(rng):
    grey = DSprites(n_scales=2, n_orientations=4, n_positions=8, binary=False)
    store = DeviceStore(grey)
    assert not store.packed
    idx = rng.integers(0, len(grey), size=20)
    np.testing.assert_array_equal(store.images(idx).numpy(), grey.images(idx))


def _trainer(dataset, name="beta-tcvae"):
    model, obj = seeded_init(lambda: (build_vae(VAEConfig(latent_dim=3, hidden=16)),
                                      build_objective(name, 2.0, latent_dim=3,
                                                      dataset_size=len(DATA))), 0)
    return Trainer(model.double(), obj.double(), dataset, TrainConfig(epochs=2, batch_size=64, seed=3))


def test_trainer_on_the_store_takes_the_cpu_path_steps():
    cpu, dev = _trainer(DATA), _trainer(DeviceStore(DATA))
    for step in (0, 5, cpu.steps_per_epoch, cpu.total_steps - 1):    # both epochs' orders
        assert torch.equal(cpu.batch(step), dev.batch(step))
    for _ in range(4):
        assert cpu.run_step() == dev.run_step()                     # same batches, same noise
    for a, b in zip(cpu.model.parameters(), dev.model.parameters()):
        assert torch.equal(a, b)


def test_subset_maps_indices(rng):
    keep = np.sort(rng.choice(len(DATA), size=100, replace=False))
    for base in (DATA, DeviceStore(DATA)):
        sub = Subset(base, keep)
        assert len(sub) == 100
        got = sub.images(np.array([0, 7, 99]))
        np.testing.assert_array_equal(np.asarray(got), DATA.images(keep[[0, 7, 99]]))


def test_bad_input():
    store = DeviceStore(DATA)
    with pytest.raises(ValueError, match="index"):
        store.images([len(DATA)])
    with pytest.raises(TypeError, match="index"):
        store.images(np.array([0.5]))
    with pytest.raises(TypeError, match="dataset"):
        DeviceStore(object())
    with pytest.raises(ValueError, match="indices"):
        Subset(DATA, np.array([-1]))
    with pytest.raises(ValueError, match="packed"):
        unpack_bits(torch.zeros(2, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="method"):
        unpack_bits(torch.zeros(2, 512, dtype=torch.uint8), method="cuda")
