"""Checks of command-line inputs made before anything runs or is written: the torch device and
the output directory. Each raises ValueError naming the option and the value received."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

__all__ = ["DEVICE_CHOICES", "check_device", "check_output_dir"]

#: what ``--device`` accepts (``cuda:N`` selects one of several GPUs)
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def check_device(device, option: str = "--device"):
    """The :class:`torch.device` that ``device`` names, checked to exist on this machine.

    ``"auto"`` is the first GPU when CUDA is available, else the CPU. Anything else than
    ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` — or a GPU this machine does not have —
    raises ValueError naming ``option``.
    """
    import torch

    if not isinstance(device, str):
        raise TypeError(f"{option} must be a string, got {type(device).__name__}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", device)
    if m:
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise ValueError(f"{option} {device}: CUDA is not available on this machine (torch "
                             f"{torch.__version__}, {build}); use --device cpu or auto")
        index = int(m.group(1) or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(f"{option} {device}: this machine has {torch.cuda.device_count()} "
                             f"CUDA device(s)")
        return torch.device("cuda", index)
    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"{option} mps: the Apple MPS backend is not available here")
        return torch.device("mps")
    raise ValueError(f"{option} {device!r}: unknown device; choose one of "
                     f"{', '.join(DEVICE_CHOICES)}")


def check_output_dir(path, option: str = "--out") -> Path:
    """``path`` as a :class:`Path` if it can be an output directory: not empty, not an existing
    file (nor below one), and writable (or creatable in a writable parent). Nothing is left behind: writability is
    tested by creating and removing an empty directory."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{option} must be a path, got {type(path).__name__}")
    if str(path).strip() == "":
        raise ValueError(f"{option}: an empty path is not a directory (use {option} . for the "
                         f"current one)")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {p}: exists and is not a directory")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"{option} {p}: {probe} is a file, not a directory")
    try:  # the permission bits do not tell (root, read-only mounts): try, and leave nothing
        os.rmdir(tempfile.mkdtemp(dir=probe, prefix=".betalab-probe-"))
    except OSError as err:
        raise ValueError(f"{option} {p}: {probe} is not writable ({err.strerror})") from None
    return p
