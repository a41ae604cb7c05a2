"""deep: torch models, priors, regularizers, metrics, procedural data and training steps.

Device-agnostic, no global seeding (randomness is an argument: a ``torch.Generator`` or a
seed), no file I/O (checkpoints and logs are written by :mod:`betalab.train`).

:mod:`deep.models`
    VAEs (MLP, conv), likelihoods and the objectives: β-VAE, β-TCVAE,
    FactorVAE, ISA-VAE (Higgins et al. 2017; Stühmer et al. 2020, eqs 1–3, 12)
:mod:`deep.priors`
    the Lp-nested / ISA prior in torch, learnable exponents (Stühmer et al.
    2020, sec. 3, App. A.1–A.2)
:mod:`deep.regularizers`
    decoder-Jacobian regularizers, GRAE (Kumar & Poole 2020, secs. 5.1–5.3)
:mod:`deep.metrics`
    disentanglement metrics: β-VAE score (as published, Higgins et al.
    2017, App. A.4), FactorVAE score, MIG; posterior–Jacobian and TIE checks
:mod:`deep.representations`
    the training-free baselines of Higgins et al. 2017, Fig. 5: raw
    pixels, PCA, FastICA, an untrained encoder's means
:mod:`deep.data`
    procedural dSprites (no download) and device-resident stores
:mod:`deep.train`
    deterministic, resumable training steps (``Trainer``)
:mod:`deep.precision`
    a step's arithmetic: fp32, tf32 (CUDA's default) or bf16 autocast
:mod:`deep.ensemble`
    K models of one architecture as one batched computation (the GPU's engine), or one
    after another (``SequentialMembers``, the CPU's)
:mod:`deep.traversal`
    latent traversals: the images a decoder draws as one latent varies (Higgins et al. 2017,
    Fig. 6A; Stühmer et al. 2020, App. A.5)
:mod:`deep.progress`
    progress bars drawn on a terminal only (never into a log or a pipe)
:mod:`deep.names`
    the command line's names of objectives and optimizers, importable without torch
:mod:`deep.linear_vae`
    the linear β-VAE of Sikka 2020 (eqs 29–33) trained by Adam
:mod:`deep.uniqueness`
    the batched uniqueness experiment of Kumar & Poole 2020, App. C

A model trained by ``betalab train`` loads in one call::

    from betalab import load_run
    model, config = load_run("runs/NAME")       # a deep.models.VAE in eval mode
"""
