"""Encoder, decoder and discriminator networks of the papers (torch, import-safe).

* MLP (Higgins et al. 2017, Table 1, "2D shapes (VAE)"; Stühmer et al. 2020,
  App. A.4, identical to Chen et al. 2018): encoder FC 4096-1200-1200 (ReLU)
  -> 2d, decoder FC d-1200-1200-1200-4096 (tanh).
* Convolutional (Higgins et al. 2017, Table 1, chairs / 3D faces): encoder
  Conv 32x4x4, 32x4x4, 64x4x4, 64x4x4 (stride 2), FC 256 (ReLU) -> 2d; the
  decoder is the transposed reverse.
* Three-layer tanh MLP (Sikka 2020, Methods, "Model Architecture" and Fig. 2): encoder FC
  256-200-200 (tanh) with two parallel linear heads for the mean and the log-variance of the
  k latents, decoder the symmetric FC 200-200-256 (tanh) -> N, linear output (the Gaussian
  mean). Widths are a parameter, so smaller CPU-sized versions share the code.
* ELU MLP (Kumar & Poole 2020, App. D, the MLP counterpart of its elu CNN): the same FC stack
  with ELU (Clevert et al. 2015), "to test the approximation quality of GRAE when eq 6 is not
  exact" (sec. 7: ∇²g ≠ 0 for a smooth activation); :class:`FCEncoder` / :class:`FCDecoder`.
* ELU CNN (Kumar & Poole 2020, App. D, the MNIST column): encoder Conv 64,4,1 → 128,4,2 →
  256,4,2 → 512,4,2 → 512,4,1 (ELU), flatten, FC head; decoder FC (s/4)²·256 → ConvT 512,4,1 →
  256,4,1 → 128,4,2 → 64,4,2 (ELU) → Conv 1,4,1 → sigmoid (optional: a VAE built from
  :class:`deep.models.VAEConfig` leaves it out, its Gaussian data being standardised); :class:`EluConvEncoder` /
  :class:`EluConvDecoder`. Unprinted, chosen here: paddings that keep the printed strides'
  sizes for any side s divisible by 4 (28 → 14 → 7 → 3; 7 → 8 → 7 → 14 → 28). App. D's batch
  normalisation is left out: in training mode it couples the examples of a batch, so the
  per-example decoder Jacobian J_g(h(x)) of eqs. 11–14 would depend on the rest of the batch.
* FactorVAE discriminator (Stühmer et al. 2020, App. A.4; Kim & Mnih 2018):
  five FC 1000 layers with LeakyReLU(0.2), then FC 2.

Encoders map images (B, 1, 64, 64) to (B, 2d) (mean and log-variance); decoders
map (B, d) to (B, 1, 64, 64) logits (Bernoulli) or means (Gaussian).
"""

from __future__ import annotations

__all__ = ["MLPEncoder", "MLPDecoder", "FCEncoder", "FCDecoder", "TanhMLPEncoder", "TanhMLPDecoder",
           "ConvEncoder", "ConvDecoder", "EluConvEncoder", "EluConvDecoder", "Discriminator",
           "ACTIVATIONS", "layer_summary"]

import math

import torch
from torch import nn

from validation import check_tensor


def _check_input(x, name: str, features: int, ndim=2):
    """A finite real floating batch whose rows hold ``features`` numbers: (B, features) for a
    decoder (``ndim`` 2) or, for an encoder, images (B, 1, H, W) with H·W = features (or any
    (B, ...) that ``nn.Flatten`` turns into (B, features))."""
    check_tensor(x, name, ndim=ndim, finite=True, grad_exempt=True)
    if x.shape[0] < 1 or math.prod(x.shape[1:]) != features:
        raise ValueError(f"{name} must be a batch of {features} numbers per row, got shape {tuple(x.shape)}")
    return x


def _check_pos(name, v):
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")


class MLPEncoder(nn.Module):
    """FC input-hidden-hidden-2d with ReLU (Higgins Table 1; Chen et al. 2018)."""

    def __init__(self, latent_dim: int = 10, hidden: int = 1200, image_size: int = 64):
        super().__init__()
        for k, v in (("latent_dim", latent_dim), ("hidden", hidden), ("image_size", image_size)):
            _check_pos(k, v)
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(image_size * image_size, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.n_in = image_size * image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(x, "x", self.n_in, (2, 3, 4)))


class MLPDecoder(nn.Module):
    """FC d-hidden-hidden-hidden-4096 with tanh (Stühmer et al. 2020, App. A.4)."""

    def __init__(self, latent_dim: int = 10, hidden: int = 1200, image_size: int = 64):
        super().__init__()
        for k, v in (("latent_dim", latent_dim), ("hidden", hidden), ("image_size", image_size)):
            _check_pos(k, v)
        self.image_size = image_size
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, image_size * image_size))
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(z, "z", self.latent_dim)).view(z.shape[0], 1, self.image_size, self.image_size)


def _check_widths(widths) -> tuple[int, ...]:
    w = tuple(widths) if isinstance(widths, (tuple, list)) else None
    if not w or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in w):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}")
    return w


#: hidden-layer activations of :class:`FCEncoder` / :class:`FCDecoder`
ACTIVATIONS = {"tanh": nn.Tanh, "elu": nn.ELU, "relu": nn.ReLU}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


class FCEncoder(nn.Module):
    """FC input-w1-...-wn with an elementwise ``activation``, then a linear head of ``head``
    outputs (default 2·latent_dim: mean and log-variance; a block-diagonal posterior needs
    d + its Cholesky entries, :func:`deep.models.posteriors.n_cov_params`)."""

    def __init__(self, latent_dim: int, widths, image_size: int, activation: str = "elu",
                 head: int | None = None):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_pos("image_size", image_size)
        act = _activation(activation)
        head = 2 * latent_dim if head is None else head
        _check_pos("head", head)
        mods, width = [nn.Flatten()], image_size * image_size
        for w in _check_widths(widths):
            mods += [nn.Linear(width, w), act()]
            width = w
        mods.append(nn.Linear(width, head))
        self.net = nn.Sequential(*mods)
        self.n_in = image_size * image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(x, "x", self.n_in, (2, 3, 4)))


class FCDecoder(nn.Module):
    """The symmetric decoder of :class:`FCEncoder`: FC d-wn-...-w1 with ``activation``, then a
    linear layer to the image_size² pixel means (or logits). ``net`` maps (B, d) to the flat
    (B, D) output, a ``Sequential`` of Linear and elementwise layers, so the forward-mode
    Jacobian pass of :mod:`deep.regularizers` applies to it directly."""

    def __init__(self, latent_dim: int, widths, image_size: int, activation: str = "elu"):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_pos("image_size", image_size)
        act = _activation(activation)
        self.image_size = image_size
        mods, width = [], latent_dim
        for w in reversed(_check_widths(widths)):
            mods += [nn.Linear(width, w), act()]
            width = w
        mods.append(nn.Linear(width, image_size * image_size))
        self.net = nn.Sequential(*mods)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(z, "z", self.latent_dim)).view(z.shape[0], 1, self.image_size, self.image_size)


class TanhMLPEncoder(FCEncoder):
    """FC input-w1-w2-w3 with tanh, then a linear layer to (mean, log-variance) of the ``latent_dim``
    latents (Sikka 2020, Methods: 256, 200, 200 units; "2 parallel hidden layers ... parameterizing
    the mean and variance")."""

    def __init__(self, latent_dim: int = 2, widths=(256, 200, 200), image_size: int = 40):
        super().__init__(latent_dim, widths, image_size, "tanh")


class TanhMLPDecoder(FCDecoder):
    """The symmetric decoder of :class:`TanhMLPEncoder`: FC d-w3-w2-w1 with tanh, then a linear
    layer to the N = image_size² pixel means (Sikka 2020, Methods: 200, 200, 256 units)."""

    def __init__(self, latent_dim: int = 2, widths=(256, 200, 200), image_size: int = 40):
        super().__init__(latent_dim, widths, image_size, "tanh")


class ConvEncoder(nn.Module):
    """Conv 32x4x4, 32x4x4, 64x4x4, 64x4x4 (stride 2), FC 256, ReLU (Higgins Table 1)."""

    def __init__(self, latent_dim: int = 10, hidden: int = 256, image_size: int = 64):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_pos("hidden", hidden)
        if image_size != 64:
            raise ValueError(f"the convolutional encoder needs image_size 64, got {image_size!r}")
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 4 * 4, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(x, "x", 64 * 64, 4))


class ConvDecoder(nn.Module):
    """The transposed reverse of :class:`ConvEncoder` (Higgins Table 1)."""

    def __init__(self, latent_dim: int = 10, hidden: int = 256, image_size: int = 64):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_pos("hidden", hidden)
        if image_size != 64:
            raise ValueError(f"the convolutional decoder needs image_size 64, got {image_size!r}")
        self.fc = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                nn.Linear(hidden, 64 * 4 * 4), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.ReLU(), nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, 2, 1))
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(_check_input(z, "z", self.latent_dim)).view(z.shape[0], 64, 4, 4))


def _check_side(image_size):
    _check_pos("image_size", image_size)
    if image_size % 4 or image_size < 8:
        raise ValueError(f"image_size must be a multiple of 4, at least 8 (the App. D CNN halves it "
                         f"twice), got {image_size!r}")


def _same():
    """The padding that keeps a stride-1, 4 × 4 convolution's size: 1 before, 2 after."""
    return nn.ZeroPad2d((1, 2, 1, 2))


class EluConvEncoder(nn.Module):
    """Kumar & Poole 2020, App. D (MNIST): Conv 64,4,1 → Conv 128,4,2 → Conv 256,4,2 →
    Conv 512,4,2 → Conv 512,4,1, ELU after each (batch normalisation left out, module
    docstring), flatten, then a linear head of ``head`` outputs (default 2·latent_dim; App. D:
    "an extra output through a fully-connected layer" for the posterior's scales)."""

    def __init__(self, latent_dim: int, image_size: int = 28, head: int | None = None):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_side(image_size)
        head = 2 * latent_dim if head is None else head
        _check_pos("head", head)
        side = image_size // 2 // 2 // 2          # three stride-2 convolutions (k 4, padding 1)
        self.net = nn.Sequential(
            _same(), nn.Conv2d(1, 64, 4, 1), nn.ELU(),
            nn.Conv2d(64, 128, 4, 2, 1), nn.ELU(), nn.Conv2d(128, 256, 4, 2, 1), nn.ELU(),
            nn.Conv2d(256, 512, 4, 2, 1), nn.ELU(), _same(), nn.Conv2d(512, 512, 4, 1), nn.ELU(),
            nn.Flatten(), nn.Linear(512 * side * side, head))
        self.image_size = image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_input(x, "x", self.image_size ** 2, (2, 3, 4))
        return self.net(x.reshape(x.shape[0], 1, self.image_size, self.image_size))


class EluConvDecoder(nn.Module):
    """Kumar & Poole 2020, App. D (MNIST): FC (s/4)²·256 → ELU → ConvT 512,4,1 → ConvT 256,4,1 →
    ConvT 128,4,2 → ConvT 64,4,2 (ELU after each) → Conv 1,4,1 → sigmoid: pixel means in
    (0, 1). The two stride-1 transposed convolutions take paddings 1 and 2 (s/4 → s/4 + 1 →
    s/4), the stride-2 ones padding 1. ``sigmoid=False`` leaves the last convolution linear:
    the Gaussian mean of standardised images, which a sigmoid cannot reach (betalab's digits)."""

    def __init__(self, latent_dim: int, image_size: int = 28, sigmoid: bool = True):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_side(image_size)
        if not isinstance(sigmoid, bool):
            raise TypeError(f"sigmoid must be a bool, got {sigmoid!r}")
        self.side = image_size // 4
        self.fc = nn.Sequential(nn.Linear(latent_dim, 256 * self.side ** 2), nn.ELU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 512, 4, 1, 1), nn.ELU(), nn.ConvTranspose2d(512, 256, 4, 1, 2), nn.ELU(),
            nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.ELU(), nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ELU(),
            _same(), nn.Conv2d(64, 1, 4, 1), *([nn.Sigmoid()] if sigmoid else []))
        self.latent_dim, self.image_size = latent_dim, image_size

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(_check_input(z, "z", self.latent_dim))
        return self.net(h.view(z.shape[0], 256, self.side, self.side))


class Discriminator(nn.Module):
    """FactorVAE discriminator: 5 x (FC 1000, LeakyReLU 0.2), FC 2 (Stühmer App. A.4).

    Output column 0 is the logit of "sample of q(z)", column 1 of "sample of
    the product of marginals" (a dimension-wise permuted batch).
    """

    def __init__(self, latent_dim: int, hidden: int = 1000, layers: int = 5):
        super().__init__()
        _check_pos("latent_dim", latent_dim)
        _check_pos("hidden", hidden)
        _check_pos("layers", layers)
        mods, width = [], latent_dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        mods.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*mods)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(_check_input(z, "z", self.latent_dim))


def layer_summary(*modules) -> tuple[list, list]:
    """The layers of ``modules`` in order, as the papers' architecture tables print them, and
    the sorted names of the activations used: ``["fc", out]``, ``["conv", out, kernel, stride]``,
    ``["deconv", out, kernel, stride]``; activations ``"relu"``, ``"tanh"``, ``"elu"``,
    ``"sigmoid"``, ``"leakyrelu(slope)"`` (Higgins et al. 2017, App. Table 1; Stühmer et al.
    2020, App. A.4)."""
    layers, acts = [], set()
    for mod in modules:
        if not isinstance(mod, nn.Module):
            raise TypeError(f"modules must be torch.nn.Module, got {type(mod).__name__}")
        for m in mod.modules():
            if isinstance(m, nn.Linear):
                layers.append(["fc", m.out_features])
            elif isinstance(m, nn.Conv2d):
                layers.append(["conv", m.out_channels, m.kernel_size[0], m.stride[0]])
            elif isinstance(m, nn.ConvTranspose2d):
                layers.append(["deconv", m.out_channels, m.kernel_size[0], m.stride[0]])
            elif isinstance(m, nn.LeakyReLU):
                acts.add(f"leakyrelu({m.negative_slope:g})")
            elif isinstance(m, (nn.ReLU, nn.Tanh, nn.ELU, nn.Sigmoid)):
                acts.add(type(m).__name__.lower())
    return layers, sorted(acts)
