"""Disentanglement metrics, array-first (codes (n, d), factors (n, K)), with
dataset-based wrappers for a trained model."""

from deep.metrics.classifier_scores import beta_vae_score, factor_vae_score
from deep.metrics.information import discrete_entropy, discrete_mutual_info, mig_histogram
from deep.metrics.sampled_mig import mig_sampled
from deep.metrics.wrappers import encode_dataset, mig

__all__ = ["beta_vae_score", "discrete_entropy", "discrete_mutual_info", "encode_dataset",
           "factor_vae_score", "mig", "mig_histogram", "mig_sampled"]
