"""VAE models (MLP and convolutional), priors, likelihoods and objectives."""

from deep.models.objectives import (ISA_OBJECTIVES, OBJECTIVES, BetaTCVAE, BetaVAE, FactorVAE, ObjectiveOutput,
                                    build_objective, permute_dims)
from deep.models.vae import VAE, VAEConfig, build_vae

__all__ = ["ISA_OBJECTIVES", "OBJECTIVES", "BetaTCVAE", "BetaVAE", "FactorVAE", "ObjectiveOutput", "VAE",
           "VAEConfig", "build_objective", "build_vae", "permute_dims"]
