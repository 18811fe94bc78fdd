"""`keras-ganinit pretrain`'s work: pretrain an extractor GAN-style, save it."""

import time
import warnings

import keras

from keras_ganinit._src.pretraining import gan_init_model

# Without --steps or --epochs: GanInitModel.fit's own default budget.
from keras_ganinit._src.pretraining.defaults import DEFAULT_STEPS
from keras_ganinit._src.transfer.source import snapshot_of_model
from keras_ganinit._src.utils.data import SAMPLES
from keras_ganinit_cli import outputs
from keras_ganinit_cli.errors import CliError, print_warning
from keras_ganinit_cli.jobs import data, models
from keras_ganinit_cli.paths import APPLICATIONS
from keras_ganinit_cli.text import shorten


def run(args):
    """Runs `pretrain` with the parsed `args`; returns the exit code."""
    application = args.extractor.startswith(APPLICATIONS)
    data.prepare(args.data, args.debug)

    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    if application:
        name = args.extractor[len(APPLICATIONS) :]
        extractor = models.application(name, args.input_shape)
    else:
        is_gan, extractor = models.unwrap(
            models.load_model(args.extractor, "EXTRACTOR")
        )
        if is_gan:
            print(
                f"{args.extractor} holds a GanInitModel: pretraining its "
                f"extractor again, with a new decoder and discriminator."
            )
    steps = args.steps or (None if args.epochs else DEFAULT_STEPS)
    limit = None
    if steps is not None:
        limit = max(steps * args.batch_size, SAMPLES)
    x, what = data.load(
        args.data, args.key, extractor, args.rescale, limit=limit, seed=args.seed
    )
    try:
        gan = gan_init_model.GanInitModel(extractor, recipe=args.recipe, seed=args.seed)
    except (TypeError, ValueError) as error:
        raise CliError(f"Cannot pretrain {extractor.name!r}: {error}") from error
    gan.compile()
    budget = f"{steps} steps" if steps else f"{args.epochs} epochs"
    print(
        f"Pretraining {extractor.name!r} (input "
        f"{models.input_shape(extractor, 'model')}, "
        f"{extractor.count_params():,} parameters) on {len(x)} samples from "
        f"{what}: {budget}, batch size {args.batch_size}, recipe {args.recipe!r}.",
        flush=True,
    )
    budget_kwargs = {"steps": steps} if steps else {"epochs": args.epochs}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        try:
            history = gan.fit(
                x, batch_size=args.batch_size, verbose="auto", **budget_kwargs
            )
        except (FloatingPointError, ValueError) as error:
            raise CliError(f"{error} Nothing was saved.") from error
        finally:
            for warning in caught:
                print_warning(warning.message)
    seconds = time.perf_counter() - start
    outputs.save_model(gan, args.out)

    steps_run = int(keras.ops.convert_to_numpy(gan.generator_optimizer.iterations))
    epochs_run = len(history.history.get("loss", []))
    losses = ", ".join(
        f"{key} {history.history[key][-1]:.4f}"
        for key in ("d_loss", "g_loss", "reconstruction_loss")
        if history.history.get(key)
    )
    if gan.calibrated:
        calibration = f"yes, on the first {min(len(x), SAMPLES)} samples"
        if gan.fell_back:
            calibration += (
                "; pretraining collapsed the features, so the calibrated "
                "starting weights were kept (see the warning above)"
            )
    elif gan.calibration:
        calibration = "no: it failed (see the warning above)"
    else:
        calibration = f"no (recipe {args.recipe!r} transfers the kernels as trained)"
    layers = snapshot_of_model(gan).kernel_layers()
    print(
        f"Done: {steps_run} steps ({epochs_run} epoch"
        f"{'' if epochs_run == 1 else 's'}) in {seconds:.1f} s.\n"
        f"Final losses: {losses or 'none logged'}\n"
        f"Calibrated: {calibration}\n"
        f"Saved: {args.out}"
    )
    if layers:
        print(
            f"Use it: model = keras_ganinit.with_pretrained_initializers("
            f"model, {args.out!r}) on a fresh copy of the extractor (or "
            f"GanPretrainedInitializer(source={args.out!r}, layer="
            f"{layers[0]!r}) for one layer; layers with a kernel: "
            f"{shorten(layers)})"
        )
    return 0
