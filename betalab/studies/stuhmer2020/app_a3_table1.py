"""Stühmer et al. 2020 (ISA-VAE), App. A.3, Table 1 and App. A.4: the full-scale Fig. 5b sweep
specs (``sweeps/stuhmer-fig5b-*.toml``) against the printed hyper-parameters (Table 1) and the
printed layers of the models they build (App. A.4); checks of the study isa-vae-fig5b."""

from __future__ import annotations

from pathlib import Path

from betalab import claims as C

#: the sweep specs of Fig. 5b at the paper's configuration (Table 1), 460 runs in all
FIG5B_SPECS = ("sweeps/stuhmer-fig5b-normal.toml", "sweeps/stuhmer-fig5b-isa.toml",
               "sweeps/stuhmer-fig5b-factorvae.toml")
#: Stühmer et al. 2020, App. A.3, Table 1 (dSprites) as printed; γ is FactorVAE's weight
TABLE1_PRINTED = {"beta": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0],
                  "gamma": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                  "epochs": 20, "lr": 0.001, "batch_size": 2048, "latent_dim": 20,
                  "likelihood": "bernoulli", "optimizer": "adam"}
#: App. A.4 as printed: the MLP decoder (FC 1200 × 3 with tanh, FC 4096), the encoder "identical
#: to Chen et al. (2018)" (their MLP encoder: FC 1200 × 2 with ReLU, FC 2 × latents) and
#: FactorVAE's discriminator (5 × FC 1000 with LeakyReLU(0.2), FC 2)
A4_PRINTED = {"encoder": [["fc", 1200], ["fc", 1200], ["fc", 40]], "encoder_act": ["relu"],
              "decoder": [["fc", 1200], ["fc", 1200], ["fc", 1200], ["fc", 4096]],
              "decoder_act": ["tanh"],
              "discriminator": [["fc", 1000]] * 5 + [["fc", 2]],
              "discriminator_act": ["leakyrelu(0.2)"]}
#: FactorVAE's discriminator width as printed (App. A.4)
DISC_HIDDEN_PRINTED = A4_PRINTED["discriminator"][0][1]


def table1_numbers(specs=FIG5B_SPECS) -> dict:
    """What the full-scale Fig. 5b sweep specs configure, and the layers of the models they
    build (:func:`deep.ensemble.build_members`, as a sweep builds them), per spec."""
    from betalab.sweep.spec import load_spec
    from deep.ensemble import build_members
    from deep.models import VAEConfig
    from deep.models.networks import layer_summary

    root = Path(__file__).resolve().parents[3]
    out = {}
    for path in specs:
        runs = [r for g in load_spec(root / path).groups for r in g.runs]
        first = runs[0]
        cfg = VAEConfig(first["arch"], first["latent_dim"], first["hidden"], prior=first["prior"],
                        learn_exponents=first["learn_exponents"], prior_scale=first["prior_scale"])
        models, objectives, _ = build_members(cfg, first["model"], [{"seed": 0, "beta": first["beta"]}],
                                              dataset_size=1000, estimator=first["estimator"],
                                              disc_hidden=first.get("disc_hidden", 1000))
        enc, enc_act = layer_summary(models[0].encoder)
        dec, dec_act = layer_summary(models[0].decoder)
        row = {"models": sorted({r["model"] for r in runs}), "grid": sorted({r["beta"] for r in runs}),
               "epochs": first["epochs"], "lr": first["lr"], "batch_size": first["batch_size"],
               "latent_dim": first["latent_dim"], "likelihood": models[0].likelihood,
               "optimizer": first.get("optimizer", "adam"), "max_steps": first["max_steps"],
               "encoder": enc, "encoder_act": enc_act, "decoder": dec, "decoder_act": dec_act}
        disc = getattr(objectives[0], "discriminator", None)
        if disc is not None:
            row["discriminator"], row["discriminator_act"] = layer_summary(disc)
        out[Path(path).stem] = row
    return out


def table1_claims(numbers: dict) -> list:
    """Each full-scale Fig. 5b spec against Table 1 and App. A.4 as printed."""
    out = []
    for name, got in sorted(numbers.items()):             # JSON keeps keys sorted
        grid = "gamma" if got["models"] == ["factor-vae"] else "beta"
        hyper = {k: got[k] for k in ("epochs", "lr", "batch_size", "latent_dim", "likelihood", "optimizer")}
        want = {k: TABLE1_PRINTED[k] for k in hyper}
        ok = got["grid"] == TABLE1_PRINTED[grid] and hyper == want and got["max_steps"] is None
        out.append(C.relation(
            f"Table 1: sweeps/{name}.toml ({', '.join(got['models'])}) trains with the printed "
            f"hyper-parameters: {grid} in {TABLE1_PRINTED[grid]}, 20 epochs, learning rate 0.001, "
            "batch size 2048, latent dimension 20, Bernoulli loss, Adam",
            "Stühmer et al. 2020, App. A.3, Table 1", "the printed values, no step cap",
            {grid: got["grid"], **hyper, "max_steps": got["max_steps"]}, ok,
            tolerance="exact", kind="check", scale="full",
            note="read from the spec by betalab.sweep.spec.load_spec, the model built by "
                 "deep.ensemble.build_members as a sweep builds it"))
        nets = ["encoder", "decoder"] + (["discriminator"] if "discriminator" in got else [])
        same = all(got[n] == A4_PRINTED[n] and got[f"{n}_act"] == A4_PRINTED[f"{n}_act"] for n in nets)
        out.append(C.relation(
            f"App. A.4: the models of sweeps/{name}.toml have the printed layers: decoder FC "
            "1200-1200-1200-4096 with tanh, encoder FC 1200-1200 with ReLU and a 2 × 20 head "
            "(Chen et al. 2018)" + (", discriminator 5 × FC 1000 with LeakyReLU(0.2) and FC 2"
                                    if "discriminator" in got else ""),
            "Stühmer et al. 2020, App. A.4", "the same layers in the same order, the same activations",
            {n: [got[n], got[f"{n}_act"]] for n in nets}, same, tolerance="exact",
            kind="check", scale="full",
            note="layers read from the built torch modules (deep.models.networks.layer_summary)"))
    return out
