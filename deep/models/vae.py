"""The VAE container: encoder + decoder + prior + likelihood (device-agnostic).

A model is built from a small config dataclass; objectives
(:mod:`deep.models.objectives`) take the model and a batch and return a loss
and named terms, so new priors/objectives (ISA-VAE, GRAE) plug in without
touching the training loop.
"""

from __future__ import annotations

__all__ = ["ARCHITECTURES", "LIKELIHOODS", "VAEConfig", "VAE", "build_vae"]

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from deep.models import distributions as dist
from deep.models import posteriors as post
from deep.models.networks import (ConvDecoder, ConvEncoder, EluConvDecoder, EluConvEncoder, FCDecoder, FCEncoder, MLPDecoder, MLPEncoder,
                                  TanhMLPDecoder, TanhMLPEncoder, _check_widths)
from theory import lp_nested as _lp
from validation import check_module_input, check_real

ARCHITECTURES = ("mlp", "conv", "tanh3", "elu-mlp", "elu-cnn")
#: the default widths of "tanh3" (Sikka 2020) and "elu-mlp" (a CPU-sized Kumar & Poole MLP)
DEFAULT_WIDTHS = {"tanh3": (256, 200, 200), "elu-mlp": (256, 128)}
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig:
    """Architecture of a VAE.

    arch
        "mlp" (Stühmer App. A.4 / Higgins Table 1 FC), "conv" (Higgins Table 1 conv),
        "tanh3" (Sikka 2020, Methods: three tanh layers of ``widths`` units, symmetric decoder) or
        "elu-mlp" (Kumar & Poole 2020, App. D's elu activations in an FC stack of ``widths``) or
        "elu-cnn" (Kumar & Poole 2020, App. D's MNIST CNN, :class:`deep.models.networks.EluConvEncoder`;
        ``image_size`` a multiple of 4, e.g. 28 or the digits' 8; App. D's final sigmoid is left
        out: betalab's Gaussian data are standardised, beyond a sigmoid's (0, 1))
    latent_dim
        d (Stühmer Table 1: 20 on dSprites; Higgins: 10)
    hidden
        width of the hidden layers (1200 for the papers' MLP, 256 FC for conv; not used by
        "tanh3")
    widths
        the encoder's layer widths of "tanh3" (Sikka 2020: (256, 200, 200)) or "elu-mlp"
        (default (256, 128)); the decoder uses them reversed; must be None for the other
        architectures
    posterior
        "diagonal" (mean field), "block:b" (block-diagonal covariance, blocks of b latents,
        b dividing latent_dim) or "full" (Kumar & Poole 2020, App. D: the encoder head emits the
        Cholesky factor of each block, :mod:`deep.models.posteriors`); a non-diagonal posterior
        needs the normal prior
    likelihood
        "bernoulli" (logits) or "gaussian" (means, fixed ``obs_sigma``)
    prior
        "normal" (N(0, I), the β-VAE) or an ISA prior string (:func:`deep.priors.parse_prior`,
        e.g. "isa" = Stühmer et al. 2020 Table 1's 2.1 / 5 × (2.2, 4), or with
        ``learn_exponents`` the App. A.2 start 2.1 / 5 × (2.0, 4): :func:`deep.priors.resolve_prior`);
        its number of latents must equal ``latent_dim``
    learn_exponents
        learn the subspace exponents of an ISA prior (Stühmer App. A.2)
    prior_scale
        the radial scale s of eq. 11; None = unit variance per latent
        (:func:`theory.lp_nested.unit_variance_scale`)
    """

    arch: str = "mlp"
    latent_dim: int = 10
    hidden: int = 1200
    likelihood: str = "bernoulli"
    obs_sigma: float = 1.0
    image_size: int = 64
    prior: str = "normal"
    learn_exponents: bool = False
    prior_scale: float | None = None
    widths: tuple | None = None
    posterior: str = "diagonal"

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        for k in ("latent_dim", "hidden", "image_size"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{k} must be a positive int, got {v!r}")
        if not isinstance(self.obs_sigma, (int, float)) or isinstance(self.obs_sigma, bool):
            raise TypeError(f"obs_sigma must be a real number, got {self.obs_sigma!r}")
        check_real(self.obs_sigma, "obs_sigma", low=dist.SIGMA_RANGE[0], high=dist.SIGMA_RANGE[1])
        if self.widths is not None:
            if self.arch not in DEFAULT_WIDTHS:
                raise ValueError(f"widths applies to arch {' or '.join(map(repr, DEFAULT_WIDTHS))} only, "
                                 f"not {self.arch!r}")
            object.__setattr__(self, "widths", _check_widths(self.widths))
        block = post.parse_posterior(self.posterior, self.latent_dim)
        tree = self.prior_tree()
        if block > 1 and tree is not None:
            raise ValueError(f"posterior {self.posterior!r} needs the normal prior, not {self.prior!r}")
        if tree is not None and _lp.n_leaves(tree) != self.latent_dim:
            raise ValueError(f"latent_dim {self.latent_dim} does not match the prior {self.prior!r}, "
                             f"which has {_lp.n_leaves(tree)} latents")
        if not isinstance(self.learn_exponents, bool):
            raise TypeError(f"learn_exponents must be a bool, got {self.learn_exponents!r}")
        if self.learn_exponents and tree is None:
            raise ValueError("learn_exponents needs an ISA prior (prior='isa...'), not 'normal'")
        if self.prior_scale is not None:
            if tree is None:
                raise ValueError("prior_scale applies to an ISA prior only, not 'normal'")
            v = self.prior_scale
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise ValueError(f"prior_scale must be a finite number > 0, got {v!r}")

    def prior_tree(self):
        """The Lp-nested tree of ``prior`` (None for the normal prior)."""
        from deep.priors import parse_prior, resolve_prior

        return parse_prior(resolve_prior(self.prior, self.learn_exponents is True))

    def block_size(self) -> int:
        """b of the posterior: 1 (diagonal), b (block:b) or latent_dim (full)."""
        return post.parse_posterior(self.posterior, self.latent_dim)

    def to_dict(self) -> dict:
        return asdict(self)


class VAE(nn.Module):
    """q(z|x) = N(mu(x), Σ(x)), p(z) = ``prior``, p(x|z) = ``likelihood``.

    Σ is diagonal, diag exp(logvar(x)), for ``block`` = 1; otherwise block-diagonal with blocks of
    ``block`` latents given by their Cholesky factors (:mod:`deep.models.posteriors`). The
    encoder's output is the mean (first d entries) followed by the covariance head.

    With Gaussian observations N(g(z), σ²I), the β-VAE loss ‖x − g‖²/(2σ²) + β KL equals
    β·[‖x − g‖²/(2βσ²) + KL]: β on the KL term is a VAE with decoder covariance βσ²I (not the
    (1/β)I printed in Kumar & Poole 2020, sec. 7; ``kp-posterior-jacobian`` checks this).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, prior: nn.Module,
                 likelihood: str = "bernoulli", obs_sigma: float = 1.0, block: int = 1):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if isinstance(block, bool) or not isinstance(block, int) or block < 1 \
                or prior.latent_dim % block:
            raise ValueError(f"block must be a positive int dividing latent_dim {prior.latent_dim}, "
                             f"got {block!r}")
        self.encoder, self.decoder, self.prior = encoder, decoder, prior
        obs_sigma = check_real(obs_sigma, "obs_sigma", low=dist.SIGMA_RANGE[0], high=dist.SIGMA_RANGE[1])
        self.likelihood, self.obs_sigma, self.block = likelihood, obs_sigma, block

    @property
    def latent_dim(self) -> int:
        return self.prior.latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) -> mean (B, d), log-variance (B, d) (the diagonal of Σ, any posterior)."""
        mu, head = self._split(self.encoder(check_module_input(self, x, "x")))
        if self.block == 1:
            return mu, head
        C = post.block_cholesky(head, self.block)
        var = C.pow(2).sum(-1).reshape(mu.shape)       # diag(CCᵀ)_i = Σ_j C_ij²
        return mu, torch.log(var)

    def _split(self, h):
        d = self.latent_dim
        return h[:, :d], h[:, d:]

    def encode_mean(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean h(x), (B, 1, H, W) -> (B, d) (what GRAE uses)."""
        return self._split(self.encoder(check_module_input(self, x, "x")))[0]

    def encode_cholesky(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) -> mean (B, d), block Cholesky factors (B, d/b, b, b) of Σ (b = ``block``;
        for the diagonal posterior b = 1 and C = exp(logvar/2))."""
        mu, head = self._split(self.encoder(check_module_input(self, x, "x")))
        if self.block == 1:
            return mu, torch.exp(0.5 * head)[:, :, None, None]
        return mu, post.block_cholesky(head, self.block)

    def posterior_covariance(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (B, d) and dense covariance Σ (B, d, d) of q(z|x)."""
        mu, C = self.encode_cholesky(x)
        return mu, post.block_dense(C @ C.transpose(-1, -2))

    def flat_decoder(self):
        """The decoder as a map (B, d) -> (B, D): its ``net`` when that already is one (the FC
        decoders, so :mod:`deep.regularizers` takes its fast forward-mode path), else a wrapper."""
        if isinstance(self.decoder, (MLPDecoder, FCDecoder)):
            return self.decoder.net
        return lambda z: self.decoder(z).flatten(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> decoder output (B, 1, H, W): logits (Bernoulli) or means (Gaussian)."""
        return self.decoder(check_module_input(self, z, "z"))

    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """E[x|z] in pixel space, (B, d) -> (B, 1, H, W)."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def log_likelihood(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over pixels, (B,)."""
        if self.likelihood == "bernoulli":
            return dist.bernoulli_log_likelihood(out, x)
        return dist.gaussian_log_likelihood(out, x, self.obs_sigma)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """Encode, sample z ~ q(z|x) with ``generator``, decode. A block posterior adds its
        Cholesky factors as ``"chol"`` (and ``"logvar"`` is the log of diag Σ)."""
        if self.block == 1:
            mu, logvar = self.encode(x)
            z = dist.sample_diag_gaussian(mu, logvar, generator)
            return {"mu": mu, "logvar": logvar, "z": z, "out": self.decode(z)}
        mu, C = self.encode_cholesky(x)
        z = post.sample_block_gaussian(mu, C, generator)
        logvar = torch.log(C.pow(2).sum(-1).reshape(mu.shape))
        return {"mu": mu, "logvar": logvar, "chol": C, "z": z, "out": self.decode(z)}


def build_vae(config: VAEConfig) -> VAE:
    """The VAE of ``config`` (parameters initialised by torch's global RNG: seed it at the
    entry point, or use :func:`deep.train.seeded_init`)."""
    if not isinstance(config, VAEConfig):
        raise TypeError(f"config must be a VAEConfig, got {type(config).__name__}")
    from deep.priors import LpNestedPrior

    tree = config.prior_tree()
    prior = dist.StandardNormalPrior(config.latent_dim) if tree is None else \
        LpNestedPrior(tree, config.prior_scale, config.learn_exponents)
    d, block = config.latent_dim, config.block_size()
    if config.arch == "tanh3":
        widths = config.widths or DEFAULT_WIDTHS["tanh3"]
        enc = TanhMLPEncoder(d, widths, config.image_size)
        dec = TanhMLPDecoder(d, widths, config.image_size)
    elif config.arch == "elu-mlp":
        widths = config.widths or DEFAULT_WIDTHS["elu-mlp"]
        enc = FCEncoder(d, widths, config.image_size, "elu")
        dec = FCDecoder(d, widths, config.image_size, "elu")
    elif config.arch == "elu-cnn":
        enc = EluConvEncoder(d, config.image_size)
        dec = EluConvDecoder(d, config.image_size, sigmoid=False)      # standardised data
    else:
        enc_cls, dec_cls = (MLPEncoder, MLPDecoder) if config.arch == "mlp" else (ConvEncoder, ConvDecoder)
        enc = enc_cls(d, config.hidden, config.image_size)
        dec = dec_cls(d, config.hidden, config.image_size)
    if block > 1:   # the covariance head emits the Cholesky entries (Kumar & Poole 2020, App. D)
        last = enc.net[-1]
        enc.net[-1] = nn.Linear(last.in_features, d + post.n_cov_params(d, block))
    return VAE(enc, dec, prior, config.likelihood, config.obs_sigma, block)
