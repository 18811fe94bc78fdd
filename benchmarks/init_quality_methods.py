"""The methods of the initialization quality benchmark, by name, and their groups.

`METHODS` maps each name `benchmarks/init_quality.py --methods` takes to how
the method is run (`init_quality._pretrain` reads it); the groups say how
the report treats it: `STANDARD` (the standard initializers: Keras's own and
LSUV), `NOT_COMPETING` (our ablations, budgets and targets: left out of
"best"), and `BASELINE` (the method every cell is measured against). Shared
by the running (`init_quality.py`) and the reporting
(`init_quality_report.py`), so that neither imports the other's half.
"""

import keras

# name -> (kind, initializer, keyword arguments). "random": a Keras initializer;
# "lsuv": Orthogonal + `lsuv(**kwargs)`; "anyinit": Orthogonal placeholders
# redrawn and scaled by `anyinit.initialize(extractor, x[:512], seed=seed,
# **kwargs)`; "autoencoder": the extractor and its
# mirror trained on L1 reconstruction (then `calibrate()`d if kwargs say so);
# "gan": GanInitModel with these keyword arguments (its default recipe
# calibrates at the end of fit), where "steps" is the fit budget, "noise" a
# GaussianNoise layer put before the extractor (a denoising generator),
# "tied" a decoder from `mirror(extractor, tied=True)`, and "post" names a
# step run afterwards instead: "lsuv" (LSUV alone) or "orth+lsuv"
# (orthogonalize, then LSUV, no centering: the default of the first benchmark
# run).
METHODS = {
    "RandomNormal(0.02)": ("random", keras.initializers.RandomNormal, {"stddev": 0.02}),
    "LecunNormal": ("random", keras.initializers.LecunNormal, {}),
    "GlorotUniform": ("random", keras.initializers.GlorotUniform, {}),
    "HeNormal": ("random", keras.initializers.HeNormal, {}),
    "Orthogonal": ("random", keras.initializers.Orthogonal, {}),
    "LSUV": ("lsuv", None, {}),
    "AnyInit": ("anyinit", None, {"mode": "empirical"}),
    "Autoencoder": ("autoencoder", None, {}),
    "GAN (paper)": ("gan", None, {"recipe": "paper"}),
    "GAN (default)": ("gan", None, {}),
}
# Ablations of the default's parts, run with --ablations. The first answers
# "is it the pretraining or the calibration?": the same calibration steps
# (LSUV to the same per-activation target, centered biases) on random
# orthogonal kernels, no pretraining at all.
ABLATIONS = {
    "Orthogonal + LSUV + centering, no pretraining": (
        "lsuv",
        None,
        {"center": True, "target_std": None},  # per activation, as calibrate,
    ),
    "Autoencoder + calibration": ("autoencoder", None, {"calibrate": True}),
    "GAN rw1 + orth + LSUV, no centering": (
        "gan",
        None,
        {"calibration": False, "post": "orth+lsuv"},
    ),
    "GAN rw1, no calibration": ("gan", None, {"calibration": False}),
}
# Earlier ablations of the pretraining itself (docs/benchmarks.md, first run);
# run them by name with --methods.
MORE_ABLATIONS = {
    "GAN rw1 + LSUV, no orthogonalization": (
        "gan",
        None,
        {"calibration": False, "post": "lsuv"},
    ),
    "GAN rw5, no calibration": (
        "gan",
        None,
        {"reconstruction_weight": 5.0, "calibration": False},
    ),
    "GAN rw1 noise0.1, no calibration": (
        "gan",
        None,
        {"noise": 0.1, "calibration": False},
    ),
    # The option for tanh networks trained on much labelled data.
    "GAN, calibration_target_std=1": ("gan", None, {"calibration_target_std": 1.0}),
    # The mirror reuses the extractor's kernels, transposed (extractor^T).
    "GAN, tied decoder weights": ("gan", None, {"tied": True}),
    # The generator matches the discriminator's mean hidden features instead.
    "GAN, feature matching": ("gan", None, {"adversarial_loss": "feature_matching"}),
    # The GAN value function's generator term taken literally, log(1 - D(G(x))).
    "GAN, minimax": ("gan", None, {"adversarial_loss": "minimax"}),
}
# The default with a shorter pretraining budget, in steps of batch 64 run
# with `fit(steps=N)` (one epoch: small data repeated inside it), run by name
# with --methods: what picks the default budget (docs/benchmarks.md).
BUDGETS = {
    f"GAN (default), {steps} steps": ("gan", None, {"steps": steps})
    for steps in (50, 100, 200, 400, 600)
}
# The calibration target of tanh networks (every layer: these cells' networks
# are all tanh), with the 200-step budget; the default target is 0.5.
TANH_TARGETS = {
    f"GAN (default), 200 steps, target {target}": (
        "gan",
        None,
        {"steps": 200, "calibration_target_std": target},
    )
    for target in (0.75, 1.0)
}
NOT_COMPETING = {**ABLATIONS, **MORE_ABLATIONS, **BUDGETS, **TANH_TARGETS}
# The standard initializers: Keras's own and LSUV. AnyInit competes (it counts
# in "best" and "rank") but is not one of them: the goal's "within 2 std of
# the best standard initializer" and the recorded results keep their meaning.
STANDARD = [m for m, (kind, _, _) in METHODS.items() if kind in ("random", "lsuv")]
METHODS.update(NOT_COMPETING)
BASELINE = "HeNormal"
