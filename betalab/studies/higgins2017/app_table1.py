"""Higgins et al. 2017, App. Table 1: the architectures of the VAE rows, each as printed against
betalab's build of it (:func:`deep.models.build_vae`, its layers read back from the module). Part
of the study ``higgins-fig5-table`` (:mod:`betalab.studies.higgins2017.fig5_left`)."""

from __future__ import annotations

from betalab import claims as C

#: Higgins et al. 2017, App. Table 1 as printed (the oracle of the architecture checks): per
#: network, its layers in order as (kind, units or channels, kernel, stride), its activation
#: and latent size; "2D shapes (VAE)" and the shared conv row of chairs and 3D faces (a deconv
#: decoder, "reverse of encoder": the encoder's layers transposed, in reverse order, ending in
#: the image's one channel; CelebA's row is the same network on 3 channels with a Gaussian
#: likelihood, not built: its data cannot be obtained offline)
TABLE1 = {
    "2D shapes (VAE)": {"encoder": [("fc", 1200), ("fc", 1200)], "latents": 10,
                        "decoder": [("fc", 1200), ("fc", 1200), ("fc", 1200), ("fc", 4096)],
                        "activation": ("relu", "tanh"), "likelihood": "bernoulli"},
    "chairs / 3D faces (VAE)": {
        "encoder": [("conv", 32, 4, 2), ("conv", 32, 4, 2), ("conv", 64, 4, 2), ("conv", 64, 4, 2),
                    ("fc", 256)], "latents": 32,
        "decoder": [("fc", 256), ("fc", 1024), ("deconv", 64, 4, 2), ("deconv", 32, 4, 2),
                    ("deconv", 32, 4, 2), ("deconv", 1, 4, 2)],
        "activation": ("relu", "relu"), "likelihood": "bernoulli"},
}
#: betalab's build of each row: deep.models.VAEConfig arguments
TABLE1_CONFIGS = {"2D shapes (VAE)": ("mlp", 10, 1200), "chairs / 3D faces (VAE)": ("conv", 32, 256)}


def architecture_numbers() -> dict:
    """The layers of each Table 1 row as :func:`deep.models.build_vae` builds it: per network
    its layers in order (the posterior head left out of the encoder: it is the latents' mean
    and log-variance, 2 × latents outputs), the activations used and the likelihood."""
    from deep.models import VAEConfig, build_vae
    from deep.models.networks import layer_summary as layers

    numbers = {}
    for row, (arch, d, hidden) in TABLE1_CONFIGS.items():
        model = build_vae(VAEConfig(arch, d, hidden))
        enc, enc_act = layers(model.encoder)
        dec, dec_act = layers(*[m for m in (getattr(model.decoder, "fc", None), model.decoder.net) if m is not None])
        numbers[row] = {"encoder": enc[:-1], "head": enc[-1][1], "decoder": dec,
                        "activation": [enc_act, dec_act], "likelihood": model.likelihood}
    return numbers


def architecture_claims(arch: dict) -> list:
    """Each Table 1 row against its build: the same layers in the same order, the printed
    activation in each network (and no other), 2 × latents head outputs, the likelihood."""
    out = []
    for row, want in TABLE1.items():
        got = arch[row]
        same = ([tuple(x) for x in got["encoder"]] == want["encoder"]
                and [tuple(x) for x in got["decoder"]] == want["decoder"]
                and got["head"] == 2 * want["latents"]
                and got["activation"] == [[want["activation"][0]], [want["activation"][1]]]
                and got["likelihood"] == want["likelihood"])
        out.append(C.relation(
            f"Table 1 (App.): the {row} architecture as printed", "Higgins et al. 2017, App. Table 1",
            f"{want}", got, same, kind="check",
            note="deep.models.build_vae's layers read back from the module; the decoder's "
                 "first FC layers of the conv row are the transposed encoder's FC 256 and its "
                 "flattened 64 × 4 × 4 input"))
    return out
