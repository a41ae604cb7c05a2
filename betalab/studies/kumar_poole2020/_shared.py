"""Kumar & Poole 2020, *On Implicit Regularization in β-VAEs*: what the modules of this package
share (the paper's name as the claims cite it)."""

from __future__ import annotations

PAPER = "Kumar & Poole 2020"
