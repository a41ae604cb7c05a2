"""VAE models (MLP and convolutional), priors, likelihoods and objectives."""

from deep.models.objectives import (GRAE, GRAE_OBJECTIVES, ISA_OBJECTIVES, OBJECTIVES, BetaTCVAE, BetaVAE,
                                    FactorVAE, ObjectiveOutput, build_objective, check_posterior,
                                    permute_dims)
from deep.models.vae import VAE, VAEConfig, build_vae

__all__ = ["GRAE", "GRAE_OBJECTIVES", "ISA_OBJECTIVES", "OBJECTIVES", "BetaTCVAE", "BetaVAE", "FactorVAE",
           "ObjectiveOutput", "VAE", "VAEConfig", "build_objective", "build_vae", "check_posterior",
           "permute_dims"]
