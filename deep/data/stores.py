"""Views of a ground-truth dataset for training: a device-resident store and a subset.

:class:`DeviceStore` keeps every image of a dataset on a torch device — bit-packed
(512 bytes per 64x64 binary image: 5.9 MB for the reduced dSprites grid, 377 MB for the
full one) when the dataset can hand out its packed images, else as a dense float32 tensor —
and gathers and unpacks a batch where it lives, so a training step on a GPU copies
indices, not 33 MB of float32 images. ``images(index)`` returns the same values as the
dataset's own ``images`` (tested), as a tensor on the store's device.

:class:`Subset` restricts a dataset (or a store) to some of its indices, e.g. the images
left for training after a held-out evaluation set is set aside.

No file is read or written here.
"""

from __future__ import annotations

__all__ = ["unpack_bits", "DeviceStore", "Subset"]

import numpy as np
import torch

from validation import as_float_array, check_device, check_int


def _labels(index, name: str, ndim=(0, 1)) -> np.ndarray:
    """Integer indices checked by name (the rule of :func:`deep.metrics.information.check_labels`)."""
    from deep.metrics.information import check_labels

    return check_labels(index, name, ndim)


def _check_dataset(dataset):
    if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset: needs len() and images(index), got {type(dataset).__name__}")
    return dataset

#: bit ``i`` of a packed byte holds pixel ``7 - i`` of its group of eight (np.packbits order)
_SHIFTS = torch.arange(7, -1, -1, dtype=torch.uint8)


def unpack_bits(packed: torch.Tensor, image_size: int = 64, method: str = "auto") -> torch.Tensor:
    """Inverse of ``np.packbits(..., axis=1)`` on a torch tensor, on its own device.

    packed
        uint8 tensor of shape (n, image_size**2 // 8)
    method
        "torch" (shifts and masks, on any device), "numpy" (``np.unpackbits``, CPU only:
        4x faster there than the torch ops on one thread) or "auto" (numpy on the CPU, else torch)
    returns
        float32 tensor of shape (n, 1, image_size, image_size) with values 0 / 1
    """
    image_size = check_int(image_size, "image_size", low=1)
    if not torch.is_tensor(packed):
        raise TypeError(f"packed must be a uint8 torch.Tensor, got {type(packed).__name__}")
    if packed.dtype != torch.uint8 or packed.ndim != 2 or packed.shape[1] * 8 != image_size ** 2:
        raise ValueError(f"packed must be uint8 of shape (n, {image_size ** 2 // 8}), got "
                         f"{packed.dtype} {tuple(packed.shape)}")
    if method not in ("auto", "torch", "numpy"):
        raise ValueError(f"method must be 'auto', 'torch' or 'numpy', got {method!r}")
    if method == "numpy" or (method == "auto" and packed.device.type == "cpu"):
        bits = np.unpackbits(packed.cpu().numpy(), axis=1).astype(np.float32)
        return torch.from_numpy(bits.reshape(-1, 1, image_size, image_size)).to(packed.device)
    bits = (packed[:, :, None] >> _SHIFTS.to(packed.device)) & 1          # (n, bytes, 8)
    return bits.reshape(-1, 1, image_size, image_size).to(torch.float32)


class DeviceStore:
    """Every image of ``dataset`` kept on ``device``; batches gathered and unpacked there.

    Parameters
    ----------
    dataset : a ground-truth dataset with ``len``, ``images(index)`` and ``factors_of``; a
        dataset with ``packed_images()`` (binary dSprites) is kept bit-packed, any other as a
        dense float32 tensor (``len * 4096 * 4`` bytes).
    device : torch device (str or torch.device).

    Notes
    -----
    The store forwards the ground-truth protocol (``factor_sizes``, ``factors_of``,
    ``index_of``, ``sample_factors``, ``render``) to ``dataset``, so metrics accept it too.
    """

    def __init__(self, dataset, device="cpu"):
        _check_dataset(dataset)
        self.dataset, self.device = dataset, check_device(device)
        self.n = len(dataset)
        if hasattr(dataset, "packed_images") and getattr(dataset, "binary", True):
            self.packed = True
            self._data = torch.from_numpy(np.ascontiguousarray(dataset.packed_images())).to(self.device)
            self.image_size = int(round((self._data.shape[1] * 8) ** 0.5))
        else:
            self.packed = False
            imgs = dataset.images(np.arange(self.n))
            self._data = torch.as_tensor(np.asarray(imgs, dtype=np.float32)).to(self.device)
            self.image_size = int(self._data.shape[-1])
        self.factor_sizes = getattr(dataset, "factor_sizes", None)
        self.factor_names = getattr(dataset, "factor_names", None)

    def __len__(self) -> int:
        return self.n

    @property
    def nbytes(self) -> int:
        """Device memory held by the images."""
        return self._data.numel() * self._data.element_size()

    def images(self, index) -> torch.Tensor:
        """Images of indices (n,) (numpy or tensor) -> float32 tensor (n, 1, H, W) on the device."""
        idx = torch.as_tensor(_labels(index, "index") if not torch.is_tensor(index) else index)
        if idx.dtype.is_floating_point or idx.dtype == torch.bool or idx.dtype.is_complex:
            raise TypeError("index: must be integer")
        # checked where the indices are (host indices: no device synchronisation)
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n):
            raise ValueError(f"index: out of range [0, {self.n})")
        idx = idx.reshape(-1).to(self.device, torch.int64)
        rows = self._data.index_select(0, idx)
        return unpack_bits(rows, self.image_size) if self.packed else rows

    def __getattr__(self, name):
        # the ground-truth protocol (factors_of, index_of, sample_factors, render, ...)
        if name.startswith("_") or name in ("dataset",):
            raise AttributeError(name)
        return getattr(self.dataset, name)


class Subset:
    """The images ``indices`` of ``dataset`` as a dataset of ``len(indices)`` images.

    ``images(i)`` is ``dataset.images(indices[i])`` (numpy or tensor, as the base returns)."""

    def __init__(self, dataset, indices):
        _check_dataset(dataset)
        try:
            idx = np.asarray(indices)
        except ValueError:                  # ragged nesting
            idx = np.asarray(None)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError("indices: must be a 1-d integer array")
        if idx.size == 0 or idx.min() < 0 or idx.max() >= len(dataset):
            raise ValueError(f"indices: must be non-empty and within [0, {len(dataset)})")
        self.dataset, self.indices = dataset, idx.astype(np.int64)

    def __len__(self) -> int:
        return int(self.indices.size)

    def images(self, index):
        i = _labels(index.cpu() if torch.is_tensor(index) else index, "index")
        if i.size and (i.min() < 0 or i.max() >= len(self)):
            raise ValueError(f"index: out of range [0, {len(self)})")
        return self.dataset.images(self.indices[i])


class ArrayImages:
    """Images held in memory as an array (n, side²) (or (n, side, side)): the dataset protocol
    ``len`` / ``images(index) -> float32 (b, 1, side, side)`` for generated data such as
    :mod:`deep.data.digits` (wrap it in a :class:`DeviceStore` to train from a device)."""

    def __init__(self, x, side: int):
        if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side < 1:
            raise ValueError(f"side must be a positive int, got {side!r}")
        f32 = float(np.finfo(np.float32).max)               # images are held as float32
        arr = as_float_array(x, "x", low=-f32, high=f32).astype(np.float32)
        if arr.ndim not in (2, 3) or arr.shape[0] < 1 or arr[0].size != side * side:
            raise ValueError(f"x must have shape (n, {side * side}) or (n, {side}, {side}), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("x must be finite")
        self._x = arr.reshape(-1, 1, side, side)
        self.side = int(side)

    def __len__(self) -> int:
        return self._x.shape[0]

    def images(self, index) -> np.ndarray:
        i = _labels(index.cpu() if torch.is_tensor(index) else index, "index")
        if i.size and (i.min() < 0 or i.max() >= len(self)):
            raise ValueError(f"index: out of range [0, {len(self)})")
        return self._x[i]
