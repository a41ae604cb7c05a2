"""The coverage ledger of the four papers (see :mod:`betalab.coverage` for the format).

One :class:`~betalab.coverage.Item` per checkable item: equations, figures, tables and numbers
in the text. Claim names read ``"<study>: <start of the statement>"`` and are resolved to claim
ids when the report is written; the study tests check that every name resolves.

Reasons for ``partial`` / ``missing`` use four phrases: *data not obtainable offline* (the
dataset cannot be downloaded here), *needs a GPU* (paper-size training), *not yet built*, and
*no claim* (implemented and tested, but no number or statement of the paper to decide).
"""

from betalab.coverage import Item

_S, _K, _H, _T = "stuhmer", "kumar-poole", "higgins", "sikka"
_GPU = "needs a GPU: paper-size training sweeps (betalab train) not run in the report"

LEDGER: tuple[Item, ...] = (
    # ------------------------------------------------------------ Stühmer et al. 2020 (+ appendix)
    Item(_S, "eq 1", "β-VAE objective", "covered", ("dsprites-beta-vae-quick: The β-VAE objective as trained",)),
    Item(_S, "eq 2", "β-TCVAE objective", "covered",
         ("dsprites-beta-vae-quick: β-TCVAE (α = γ = 1) weighs only the total correlation",
          "dsprites-beta-vae-quick: At α = β = γ = 1 the β-TCVAE objective")),
    Item(_S, "eq 3", "KL decomposition MI + TC + DWKL", "covered",
         ("dsprites-beta-vae-quick: β-TCVAE KL decomposition", "dsprites-beta-vae-quick: Corrected eq. 3")),
    Item(_S, "sec. 2.3, eq 4", "ELBO ≤ log-likelihood; VI biases the fit", "covered",
         ("ica-overcomplete: β = 1: the ELBO is a lower bound", "fa-rotation: free energy ≤ log-likelihood",
          "ica-overcomplete: β = 1: the true parameters", "ica-overcomplete: β = 5: the true parameters")),
    Item(_S, "sec. 2.4, Fig 1", "over-complete ICA: VI orthogonalises, β-VI prunes", "covered",
         ("ica-overcomplete: β = 1 (VI) keeps", "ica-overcomplete: β = 1: one component",
          "ica-overcomplete: β = 5: one component", "ica-overcomplete: β = 1: the kept",
          "ica-overcomplete: β = 5: the kept")),
    Item(_S, "sec. 2.4", "the biases grow with β", "covered",
         ("ica-beta-sweep: the biases grow", "ica-beta-sweep: the number of kept",
          "ica-beta-sweep: β = 5 prunes")),
    Item(_S, "eq 5", "generalised Gaussian prior, p = 2/(1+κ), κ a measure of kurtosis", "covered",
         ("lp-nested-fig3: p = 2/(1+κ)", "lp-nested-fig3: κ of eq 5")),
    Item(_S, "sec. 3.1, Fig 3", "lepto-/platykurtic priors and the orientation of a square", "covered",
         ("lp-nested-fig3: A leptokurtic", "lp-nested-fig3: A platykurtic", "lp-nested-fig3: At p = 2")),
    Item(_S, "eq 6, Fig 2", "Lp-nested function and its iso-contours", "covered",
         ("lp-nested-fig2: The plotted surfaces",)),
    Item(_S, "eq 7", "Lp-nested density normalises", "covered",
         ("isa-prior-samples: The dSprites ISA density integrates",)),
    Item(_S, "eq 8", "surface area of the Lp-nested unit sphere", "covered",
         ("lp-nested-fig2: Unit-ball volume", "lp-nested-fig2: Eq 8 (inner product")),
    Item(_S, "eq 9", "ISA function (depth-two tree)", "covered",
         ("isa-prior-samples: Eq 10 with b",)),
    Item(_S, "eq 10", "subspace index sets V_i", "covered",
         ("isa-prior-samples: Eq 10 as printed", "isa-prior-samples: Eq 10 with b")),
    Item(_S, "eq 11", "radial distribution; subspaces independent", "covered",
         ("isa-prior-samples: dSprites: Algorithm 1 samples", "isa-prior-samples: dSprites: Monte Carlo")),
    Item(_S, "sec. 3", "the ISA prior is not rotation invariant", "covered",
         ("isa-symmetry-breaking: ISA prior: a 45° rotation within",
          "isa-symmetry-breaking: ISA prior: a 45° rotation across")),
    Item(_S, "sec. 4", "p0 = 2.1 'leads to a rotationally invariant prior'", "covered",
         ("isa-symmetry-breaking: p0 = 2.1", "isa-symmetry-breaking: Corrected: with all exponents")),
    Item(_S, "eq 12", "ISA-VAE objective trained on dSprites / 3D faces", "partial",
         ("isa-vae-fig5a: At β = 1 the ISA-VAE reaches a higher mean MIG",),
         reason="the objective is built (deep.models, eq 12 and ISA-β-TCVAE) and tested against "
                "closed forms and quadrature in tests/deep/test_isa_vae.py; trained-model claims "
                "are those of Fig 5a; 3D faces: data not obtainable offline"),
    Item(_S, "sec. 4.1, Fig 5a", "ISA-VAE vs VAE at β = 1: higher mean, median and maximum MIG",
         "partial",
         ("isa-vae-fig5a: At β = 1 the ISA-VAE reaches a higher mean MIG",
          "isa-vae-fig5a: At β = 1 the ISA-VAE reaches a higher median MIG",
          "isa-vae-fig5a: At β = 1 the ISA-VAE reaches a higher max MIG",
          "isa-vae-fig5a: Fig. 5a at the paper's configuration"),
         reason="decided at cpu scale (reduced dSprites, 20 seeds per model: "
                "`betalab run isa-vae-fig5a --scale cpu`); the paper's configuration " + _GPU),
    Item(_S, "Table 1, Figs 5, 8", "ISA layouts of the dSprites models (20 latents)", "covered",
         ("isa-prior-samples: Fig. 8 ISA layout", "isa-prior-samples: The Fig. 5 caption")),
    Item(_S, "Fig 5b", "MIG vs reconstruction trade-off over β, β-VAE / β-TCVAE / ISA-VAE", "partial",
         ("isa-vae-fig5a: Fig. 5b: ISA-VAE reaches",
          "isa-vae-fig5a: App. A.5: the sampled MIG (Chen et al. 2018) of the ISA-VAE after training is bimodal",
          "isa-vae-fig5a: App. A.5: the histogram MIG of the ISA-VAE after training is bimodal"),
         reason="decided at cpu scale (recorded/sweeps/stuhmer-fig5b-cpu: reduced dSprites, MLP 256, "
                "2,000 steps, β ∈ {1, 2, 4, 6}, 3 seeds): the three statements fail there under "
                "the rule 'every pair, both MIGs'; App. A.5's bimodality decided on Fig. 5a's 20 "
                "cpu-scale seeds per model; the paper-size sweeps are in sweeps/stuhmer-fig5b-*.toml, "
                "not run: " + _GPU),
    Item(_S, "App. A.5, Figs 8–15", "MIG 0.14 / 0.28 / 0.47 of representative β-VAE models", "partial",
         ("dsprites-beta-vae-quick: β-VAE on dSprites reaches MIG",
          "isa-vae-fig5a: App. A.5, Figs 8–16: the representative"),
         reason="the printed MIG and log p(x) are of paper-size models, not run: " + _GPU + "; at "
                "cpu scale each model's representative run of the recorded Fig. 5b sweep (App. A.5 "
                "rule) is retrained and drawn in the form of Figs 8–16 (recorded isa-vae-fig5a)"),
    Item(_S, "sec. 4, Figs 6–7", "3D-faces results", "partial",
         ("isa-vae-fig5a: Fig. 5c: on 3D faces", "isa-vae-fig5a: Fig. 6: on cars3d"),
         reason="data not obtainable offline (3D faces, cars3d): not-run claims say what would "
                "decide them; App. A.2's exponents are decided on procedural dSprites instead"),
    Item(_S, "App. A.1, Alg 1", "exact Lp-nested sampler", "covered",
         ("isa-prior-samples: dSprites: Algorithm 1 samples", "isa-prior-samples: 3D faces: Algorithm 1",
          "isa-prior-samples: Algorithm 1 steps")),
    Item(_S, "App. A.2, Fig 7", "learned exponents (1.95, 1.98, 2.17; every p3 > 2.17; ≠ p0)",
         "partial",
         ("isa-vae-exponents: The most frequent learned exponents",
          "isa-vae-exponents: Every learned p3", "isa-vae-exponents: The learned exponents always"),
         reason="data not obtainable offline (3D faces): decided on procedural dSprites at cpu "
                "scale (`betalab run isa-vae-exponents --scale cpu`)"),
    Item(_S, "App. A.3–A.4, Tables 1–2", "hyper-parameters and architectures", "partial",
         tuple(f"isa-vae-fig5a: {what} sweeps/stuhmer-fig5b-{s}.toml"
               for s in ("normal", "isa", "factorvae")
               for what in ("Table 1:", "App. A.4: the models of")),
         reason="Table 1 (dSprites) and App. A.4 are checked against the full-scale Fig. 5b sweep "
                "specs and the models they build; Table 2 is for the 3D faces data set, which "
                "cannot be obtained offline"),
    Item(_S, "App. B.1, eq 16", "β-VI as VI on M = 1/β replicated observations", "covered",
         ("fa-beta: increasing β reduces the amplitude",)),
    Item(_S, "App. B.2", "β-posterior mean and covariance", "covered",
         ("fa-rotation: β-posterior mean", "fa-rotation: corrected β-posterior mean")),
    Item(_S, "App. B.3", "rotation of the ML solution: flat likelihood, F maximal at mπ/2", "covered",
         ("fa-rotation: log-likelihood is invariant", "fa-rotation: W' = R(θ)", "fa-rotation: F = log L",
          "fa-rotation: F < log L", "fa-rotation: the maximisers of F")),
    Item(_S, "App. B.3", "−17.82 / −57.16 nats", "partial",
         ("fa-rotation: log-likelihood at θ = 0", "fa-rotation: free energy at θ = π/4"),
         reason="constructed: the paper's setting is unstated, so the numbers are solved for, not "
                "reproduced"),
    Item(_S, "App. B.3", "VI finds the PCA directions at maximum likelihood", "covered",
         ("fa-rotation: maximising F over W", "fa-rotation: …at the maximum likelihood")),
    Item(_S, "App. B.4, eq 17", "over-complete FA: the extra component is pruned", "covered",
         ("fa-pruning: log-likelihood is constant", "fa-pruning: the free energy is maximal",
          "fa-pruning: F strictly", "fa-pruning: at α = 0", "fa-pruning: the pruned component")),
    Item(_S, "App. B.5", "β changes the amplitude, not the maximisers", "covered",
         ("fa-beta: for every β the maximisers", "fa-beta: increasing β reduces",
          "fa-pruning: for every β the maximiser")),
    Item(_S, "App. B.5", "β increases the posterior uncertainty", "covered",
         ("fa-beta: increasing β increases",)),
    Item(_S, "App. B intro, B.6", "β-VI returns identical model fits regardless of β", "covered",
         ("fa-beta: β = 2: β-VI returns", "fa-beta: β = 5: β-VI returns", "fa-beta: β = 2: the β-VI fit",
          "fa-beta: β = 5: the β-VI fit")),
    Item(_S, "App. B.7", "initialise at the truth, accept only improving steps", "covered",
         ("ica-overcomplete: β = 1: starting at", "ica-overcomplete: β = 5: starting at")),
    Item(_S, "App. B.8–B.9", "β = 5 prunes, the pruned posterior sits at the prior", "covered",
         ("ica-overcomplete: β = 5: the pruned", "ica-overcomplete: β = 1: the pruned")),
    # ------------------------------------------------------------ Kumar & Poole 2020
    Item(_K, "sec. 3, Thm 1", "mean-field q makes the optimum unique up to permutation/sign",
         "covered", ("kp-uniqueness: nu=",)),
    Item(_K, "sec. 3.1", "PPCA: equal column norms keep a rotation symmetry", "covered",
         ("kp-uniqueness: Sec. 3.1: probabilistic PCA",)),
    Item(_K, "App. A", "prior-preserving mixing transforms, |det J_r| = 1", "covered",
         ("kp-nonuniqueness: r = F^-1", "kp-nonuniqueness: r mixes", "kp-nonuniqueness: The mixing transform",
          "kp-nonuniqueness: |det J_r(z)|")),
    Item(_K, "App. A", "correlated priors", "covered", ("kp-nonuniqueness: Correlated prior",)),
    Item(_K, "App. C, Figs 1, 5, 6", "rotation angle vs ELBO, 4k points per data set", "partial",
         ("kp-uniqueness: nu=",),
         reason="the report runs the quick scale (200 points, 8 data sets); the paper size runs "
                "with --full (about 2 h on 2 CPU threads)"),
    Item(_K, "eqs 3–7", "second-order (Taylor) objective", "covered",
         ("kp-posterior-jacobian: Linear decoder, Gaussian observations",)),
    Item(_K, "eqs 5–6", "Hessian of log p(x|g(z)); eq 6 exact for piecewise-linear decoders", "covered",
         ("kp-posterior-jacobian: Eq 6 is exact", "kp-posterior-jacobian: Eq 5 in full",
          "kp-posterior-jacobian: For an elu decoder eq 6", "kp-posterior-jacobian: Eq 6 is exact for a trained")),
    Item(_K, "eqs 8–11", "optimal posterior covariance", "covered",
         ("kp-posterior-jacobian: The optimal posterior covariance",)),
    Item(_K, "eqs 12–13", "GRAE", "covered", ("kp-posterior-jacobian: Linear Gaussian decoder at",)),
    Item(_K, "eq 14", "Hadamard bound and GRAE≈", "covered",
         ("kp-posterior-jacobian: Hadamard bound", "kp-posterior-jacobian: GRAE-approx")),
    Item(_K, "sec. 5.1", "Bernoulli Hessian", "covered", ("kp-posterior-jacobian: Bernoulli observations",)),
    Item(_K, "sec. 5.2", "Riemannian metric G = β(Σ⁻¹ − I)", "covered",
         ("kp-trained-jacobian: Known decoder, full posterior: sec. 5.2: the posterior read as a "
          "Riemannian metric",)),
    Item(_K, "sec. 5.3", "first-order regularizer", "covered",
         ("kp-posterior-jacobian: First-order regularizer", "kp-posterior-jacobian: Corrected: beta/2",
          "kp-posterior-jacobian: First-order term")),
    Item(_K, "sec. 7, App. F", "Taylor–GRAE gap", "covered",
         ("kp-posterior-jacobian: The Taylor-GRAE gap", "kp-posterior-jacobian: Corrected gap")),
    Item(_K, "sec. 7", "β on the KL term ≡ decoder covariance (1/β)I", "covered",
         ("kp-posterior-jacobian: β on the KL term", "kp-posterior-jacobian: Corrected: the maximiser")),
    Item(_K, "Figs 2, 7 (App. E)", "MNIST posterior precision vs JᵀJ", "partial",
         ("kp-trained-jacobian: d=8: eq 11 holds", "kp-trained-jacobian: d=8, block:2: the block",
          "kp-trained-jacobian: d=8: a diagonal posterior", "kp-trained-jacobian: On MNIST",
          "kp-trained-jacobian: Known decoder, full posterior: the trained decoder's tangent space",
          "kp-trained-jacobian: Known decoder, full posterior: eq 11 with the exact Jacobian"),
         reason="data not obtainable offline (MNIST): sklearn's 8x8 digits and an ELU MLP instead, "
                "and a synthetic manifold whose decoder (so whose exact J) is known; the report runs "
                "the quick scale, --scale cpu decides d = 8, 12, 16, 20 and b = 2, 3"),
    Item(_K, "Fig 3, App. F", "β-VAE vs Taylor vs GRAE objective values on MNIST", "partial",
         ("kp-trained-jacobian: d=8, diagonal: β-VAE, Taylor", "kp-trained-jacobian: d=8, block:2: the gaps",
          "kp-trained-jacobian: d=8, diagonal: the measured Taylor", "kp-trained-jacobian: On MNIST"),
         reason="data not obtainable offline (MNIST): sklearn's 8x8 digits (497 held-out points, not "
                "5,000); the quick scale has d = 8, --scale cpu runs the paper's d = 12, b = 1, 2, 3"),
    Item(_K, "sec. 7, Fig 4, Table 1", "GRAE≈ vs β-VAE sample quality over β", "partial",
         ("kp-sample-quality: Fig. 4: GRAE≈ and β-VAE samples stay close",
          "kp-sample-quality: Table 1: larger β gives blurrier samples",
          "kp-sample-quality: Fig. 4 on CelebA"),
         reason="CelebA and FID are not obtainable offline: digits and a kernel distance on "
                "classifier features substitute (cpu scale)"),
    # ------------------------------------------------------------ Higgins et al. 2017
    Item(_H, "eqs 1–4", "β-VAE objective", "covered", ("dsprites-beta-vae-quick: The β-VAE objective as trained",)),
    Item(_H, "sec. 3, eq 5, App. A.4", "disentanglement metric", "partial",
         ("dsprites-beta-vae-quick: Ground-truth factors score",
          "higgins-fig5-table: Fig. 5 (left): the ground-truth factors score"),
         reason="the metric as published (Adagrad classifier, 10 × 3 protocol) on the training-free "
                "rows, and on Table 1 models trained 16,000 steps on a lent GPU; the full-length "
                "trained rows need a longer GPU run"),
    Item(_H, "sec. 4.2", "2D-shapes dataset: 737,280 images, factor sizes", "covered",
         ("dsprites-beta-vae-quick: The 2D-shapes dataset", "dsprites-beta-vae-quick: betalab's generator")),
    Item(_H, "Fig 5 (table)", "β-VAE 99.23 %, VAE 61.58 %", "partial",
         ("dsprites-beta-vae-quick: β-VAE (β=4) scores", "dsprites-beta-vae-quick: β-VAE's β-VAE-metric",
          "higgins-fig5-table: Fig. 5 (left): VAE (β = 1) scores"),
         reason="decided at gpu scale (Table 1 models, 16,000 of the full spec's 311,040 steps, "
                "10 replicas per β): both rows and their ordering fail there; the full length is "
                "not run (" + _GPU + ")"),
    Item(_H, "Fig 5 (table), App. A.3", "untrained VAE, raw pixels, PCA, ICA rows", "covered",
         ("dsprites-beta-vae-quick: untrained VAE 44.14",
          "higgins-fig5-table: Fig. 5 (left): Raw pixels scores", "higgins-fig5-table: Fig. 5 (left): PCA scores",
          "higgins-fig5-table: Fig. 5 (left): ICA scores",
          "higgins-fig5-table: Fig. 5 (left): VAE untrained scores",
          "higgins-fig5-table: App. A.4: the ten PCA components")),
    Item(_H, "Fig 5 (table)", "DC-IGN and InfoGAN rows", "partial",
         ("higgins-fig5-table: Fig. 5 (left): DC-IGN scores", "higgins-fig5-table: Fig. 5 (left): InfoGAN scores"),
         reason="not run: betalab does not build DC-IGN (semi-supervised) or InfoGAN (a GAN); the "
                "claims say what would decide them"),
    Item(_H, "Fig 6A", "latent traversals and latent-vs-factor plots", "partial",
         ("higgins-fig5-table: Fig. 6",),
         reason="decided at gpu scale from the latent-factor information of 16 Table 1 models "
                "(M = 10, 7,000 steps, 2 replicas per β): informative latents have high KL "
                "(holds); alignment with the four factors and the rotation harmonics fail; "
                "traversal images of trained Table 1 models are not drawn; the full length is "
                "not run (" + _GPU + ")"),
    Item(_H, "Fig 6B", "VAE (β = 1) baseline traversals", "partial",
         ("higgins-fig5-table: Fig. 6",),
         reason="decided at gpu scale (labelled-factor MIG of β = 1 vs β = 4, 2 replicas, 7,000 "
                "steps): fails there; the full length is not run (" + _GPU + ")"),
    Item(_H, "Figs 1–4", "CelebA, chairs and 3D faces traversals", "partial",
         ("higgins-fig5-table: Figs 1–4: on CelebA",),
         reason="data not obtainable offline and the comparison is qualitative: a not-run claim "
                "says what would decide it"),
    Item(_H, "Table 1 (App.)", "architectures", "partial",
         ("higgins-fig5-table: Table 1 (App.): the 2D shapes (VAE) architecture",
          "higgins-fig5-table: Table 1 (App.): the chairs / 3D faces (VAE) architecture"),
         reason="the VAE rows are built and checked layer by layer; the DC-IGN and InfoGAN rows "
                "are not built, and CelebA's 3-channel Gaussian variant is not (no data offline)"),
    Item(_H, "App. A.5, Fig 7", "β_norm and its relation to latent size", "partial",
         ("higgins-fig5-table: Fig. 5 (right): the best normalised",),
         reason="decided at gpu scale (M ∈ {5, 10, 20}, 8 β_norm, 2 replicas, 7,000 steps): "
                "fails there; M = 50, 10 replicas and 30 epochs are not run (" + _GPU + ")"),
    Item(_H, "Fig 5 (right)", "optimal β_norm grows with latent size; inverted U in β", "partial",
         ("higgins-fig5-table: Fig. 5 (right)",),
         reason="decided at gpu scale (48 Table 1 models, 7,000 of 311,040 steps): the inverted U "
                "and the growing optimum both fail there; the full grid is not run (" + _GPU + ")"),
    # ------------------------------------------------------------ Sikka 2020
    Item(_T, "eqs 15–17", "dL*/dβ = −KL*", "covered",
         ("linear-vae-propositions: dL*/dβ = −KL*", "linear-vae-propositions: dF*/dβ")),
    Item(_T, "eq 18, App. 3", "KL* non-increasing in β", "covered",
         ("linear-vae-propositions: KL* non-increasing", "linear-vae-fig3: KL* is non-increasing")),
    Item(_T, "eq 19", "reconstruction* non-increasing in β", "covered",
         ("linear-vae-propositions: Reconstruction* non-increasing",
          "linear-vae-fig3: Reconstruction* is non-increasing")),
    Item(_T, "eqs 20–22", "ELBO* maximal at β = 1", "covered",
         ("linear-vae-propositions: ELBO* maximal", "linear-vae-fig3: ELBO* is maximal")),
    Item(_T, "eq 23", "the data likelihood decreases with β (premise)", "covered",
         ("linear-vae-fig3: The data log-likelihood", "linear-vae-fig3: Corrected: log p_θ*(x)")),
    Item(_T, "eq 4, Fig 3B", "MIE non-monotonic, minimal at β = 1", "covered",
         ("linear-vae-fig3: MIE is non-monotonic", "linear-vae-fig3: MIE is minimal")),
    Item(_T, "eq 5, Fig 3B", "TIE non-monotonic with an optimal β", "covered",
         ("linear-vae-fig3: TIE is non-monotonic", "linear-vae-fig3: TIE = E KL",
          "linear-vae-fig3: Corrected TIE")),
    Item(_T, "eq 24", "fixed decoder: ELBO max and MIE min at β = 1", "covered",
         ("linear-vae-fixed-decoder: ELBO maximal", "linear-vae-fixed-decoder: MIE minimal",
          "linear-vae-fixed-decoder: MIE = log")),
    Item(_T, "eqs 26–28", "linear model, collapse thresholds", "covered",
         ("linear-vae-fig3: Collapse thresholds",)),
    Item(_T, "eqs 34, 40, 41", "averaged objective and its gradient conditions", "covered",
         ("linear-vae-fig3: Eq 40",)),
    Item(_T, "eq 43", "optimality equations, solved numerically", "covered",
         ("linear-vae-propositions: Numerical eq 43",)),
    Item(_T, "eq 44, App. 5 (eq 81)", "model posterior", "covered",
         ("linear-vae-fig3: Model posterior", "linear-vae-fig3: Eq 44 equals")),
    Item(_T, "eq 45", "inference error in closed form", "covered",
         ("linear-vae-fig3: Eq 45 with", "linear-vae-fig3: Eq 45 corrected")),
    Item(_T, "Fig 3 A–D", "numerical solution N = 128, k = 2", "covered",
         ("linear-vae-fig3: ELBO* is maximal", "linear-vae-fig3: MIE is non-monotonic",
          "linear-vae-fig3: Reconstruction* is non-increasing", "linear-vae-fig3: KL* is non-increasing")),
    Item(_T, "Fig 4 A–D", "deep β-VAE on mixed digits: ELBO max near β = 1, reconstruction and CI "
         "loss non-increasing, TIE with an interior minimum (100 initialisations per β)", "partial",
         ("sikka-fig4: ELBO (mean over initialisations)", "sikka-fig4: The reconstruction objective",
          "sikka-fig4: The conditional-independence loss", "sikka-fig4: TIE (latents matched",
          "sikka-fig4: The deep studies' TIE", "sikka-fig4: Fig 4 at the thesis'"),
         reason="decided at cpu scale (`betalab run sikka-fig4 --scale cpu`: 100 initialisations per "
                "β, smaller networks, scikit-learn's 8×8 digits: MNIST is data not obtainable "
                "offline); the thesis' configuration " + _GPU),
    Item(_T, "Fig 5 A–E", "deep β-VAE on a placed digit (A_ij = 2δ_ij + 0.73): the four curves, and "
         "latents encoding the axes of motion at large β (traversals)", "partial",
         ("sikka-fig5: ELBO (mean over initialisations)", "sikka-fig5: The reconstruction objective",
          "sikka-fig5: The conditional-independence loss", "sikka-fig5: TIE (latents matched",
          "sikka-fig5: At large β", "sikka-fig5: The placement TIE", "sikka-fig5: Fig 5 at the thesis'"),
         reason="decided at cpu scale (`betalab run sikka-fig5 --scale cpu`, 16×16 canvas, "
                "scikit-learn's 8×8 digits: MNIST is data not obtainable offline); the thesis' "
                "40×40 configuration " + _GPU),
    Item(_T, "Methods (Training Details), Fig 4 caption", "300 realisations vs 100 initialisations per β",
         "covered", ("sikka-fig4: Runs per β", "sikka-fig4: Figs 4–5 are reproduced")),
)
