"""Arithmetic precision of a training step: ``fp32``, ``tf32`` or ``bf16``.

``fp32``
    every matrix product in float32 (the reference; the only mode on a CPU besides ``bf16``).
``tf32``
    CUDA only: float32 storage, matrix products and convolutions on the tensor cores with a
    10-bit mantissa (``torch.backends.cuda.matmul.allow_tf32``,
    ``torch.backends.cudnn.allow_tf32``). The default on CUDA.
``bf16``
    the forward pass and the loss under ``torch.autocast(dtype=torch.bfloat16)``: matrix
    products in bfloat16 (8-bit mantissa), reductions and the parameters in float32; the
    backward pass and the optimizer step outside autocast, as torch recommends.

``auto`` resolves to ``tf32`` on CUDA and ``fp32`` elsewhere (:func:`resolve_precision`). The
modes change only speed and rounding: a run's precision is recorded with it (``betalab train``'s
``config.json``, a sweep run's ``versions``) so two runs are compared knowing it.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["PRECISIONS", "resolve_precision", "precision_scope", "autocast"]

PRECISIONS = ("fp32", "tf32", "bf16")


def _device_type(device) -> str:
    if isinstance(device, torch.device):
        return device.type
    if isinstance(device, str):
        try:
            return torch.device(device).type
        except RuntimeError as err:          # torch's "Expected one of cpu, cuda, ..." message
            raise ValueError(f"device {device!r}: not a torch device ({err})") from None
    raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")


def resolve_precision(precision: str, device) -> str:
    """``precision`` (one of :data:`PRECISIONS` or ``"auto"``) checked against ``device``: a
    ValueError naming ``precision`` for an unknown mode, ``tf32`` off CUDA, or ``bf16`` where
    torch has no autocast."""
    if not isinstance(precision, str):
        raise TypeError(f"precision must be a str, got {type(precision).__name__}")
    kind = _device_type(device)
    if precision == "auto":
        return "tf32" if kind == "cuda" else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS + ('auto',)}, got {precision!r}")
    if precision == "tf32" and kind != "cuda":
        raise ValueError(f"precision tf32 is a CUDA mode (tensor-core float32 products); on "
                         f"{kind} use fp32 or bf16")
    if precision == "bf16" and not torch.amp.is_autocast_available(kind):
        raise ValueError(f"precision bf16: torch has no autocast on {kind}; use fp32")
    return precision


@contextlib.contextmanager
def precision_scope(precision: str, device):
    """The matrix-product mode of ``precision`` on ``device`` for the ``with`` block (a whole
    step: forward, backward, optimizer), restored afterwards. On CUDA it sets torch's two TF32
    switches (on for ``tf32``, off for ``fp32`` and ``bf16``); elsewhere it changes nothing."""
    if _device_type(device) != "cuda":
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = (matmul.allow_tf32, cudnn.allow_tf32)
    on = precision == "tf32"
    matmul.allow_tf32, cudnn.allow_tf32 = on, on
    try:
        yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved


def autocast(precision: str, device):
    """The context of a forward pass: bfloat16 autocast for ``bf16``, nothing otherwise."""
    if precision == "bf16":
        return torch.autocast(_device_type(device), dtype=torch.bfloat16)
    return contextlib.nullcontext()
