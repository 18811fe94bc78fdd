"""GanInitModel: adversarial pretraining of a feature extractor."""

import copy
import math
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.calibration.after_fit import calibrate_after_fit
from keras_ganinit._src.calibration.calibrate import calibrate, check_target
from keras_ganinit._src.calibration.fallback import fall_back_if_collapsed, values_of
from keras_ganinit._src.graph.layers import (
    redraw,
    rescales_its_input,
    single_input_shape,
)
from keras_ganinit._src.mirror import tied as _tied
from keras_ganinit._src.mirror.mirror import mirror
from keras_ganinit._src.pretraining import budget as _budget
from keras_ganinit._src.pretraining import legacy as _legacy
from keras_ganinit._src.pretraining import next_step as _next_step
from keras_ganinit._src.pretraining import players as _players
from keras_ganinit._src.pretraining import trainers as _trainer
from keras_ganinit._src.pretraining.arguments import (
    FIXED_COMPILE_ARGS,
    RECIPES,
    check_adversarial_loss,
    check_calibration,
    check_decoder,
    check_recipe,
    default_optimizer,
)
from keras_ganinit._src.pretraining.defaults import DEFAULT_STEPS
from keras_ganinit._src.pretraining.discriminator import (
    check_discriminator,
    default_discriminator,
    feature_model,
)
from keras_ganinit._src.pretraining.guard import NonFiniteGuard
from keras_ganinit._src.pretraining.samples import samples_of
from keras_ganinit._src.transfer.gan_pretrained_initializer import (
    GanPretrainedInitializer,
)
from keras_ganinit._src.utils import arrays
from keras_ganinit._src.utils.checks import (
    Seed,
    check_flag,
    check_seed,
    non_negative,
    seed_value,
)
from keras_ganinit._src.utils.data import SAMPLES
from keras_ganinit._src.utils.deprecation import renamed_arguments


@keras.saving.register_keras_serializable(package="keras_ganinit")
class GanInitModel(keras.Model):
    """Pretrains a feature extractor without labels, GAN-style.

    The generator is the extractor followed by its mirror (the decoder), and
    it is fed real data, not noise: it learns to turn a sample into something
    the discriminator takes for real data. The discriminator learns to tell
    real samples from generated ones. Both train with the standard GAN loss
    (the generator's non-saturating form) and alternating updates, in an
    ordinary `fit`. Afterwards the extractor's weights initialize a
    supervised model through `GanPretrainedInitializer`.

    Calling the model returns the generator's output, which has the input's
    shape; for an extractor that reads token ids with an `Embedding`, it is
    token logits, `(*input_shape, vocabulary)`: the reconstruction is then
    their cross-entropy against the ids, and the discriminator judges the
    ids one-hot against the logits' softmax (docs/sequences.md). Padded
    steps (a `Masking` layer or `Embedding(mask_zero=True)` reading the
    input) count in neither loss. `fit` logs `d_loss`, `g_loss`, their sum
    `loss` (which standard callbacks such as `TerminateOnNaN` and
    `EarlyStopping` read) and `reconstruction_loss` (the mean absolute
    error between generator output and input, or the cross-entropy for
    token ids, whatever its weight; 0 `d_loss` for the recipes without a
    discriminator), with `val_` versions when given
    validation data. Labels are ignored. `fit` stops and restores the last
    finite weights if the losses become NaN or inf (see `fit`).

    Args:
        extractor: the `keras.Model` to pretrain, with one input of known
            shape and one output: a Sequential or functional model, with
            branches, merges and nested models if you like (any
            `keras.applications` CNN; recurrent, Bidirectional,
            self-attention and Embedding layers too); its layers are the
            first layers of the supervised model.
        discriminator: a `keras.Model` mapping a batch of samples to one logit
            each, `(batch, 1)`. Defaults to an MLP for `(features,)` samples
            and a strided CNN for `(steps, channels)`, `(h, w, channels)` and
            `(d, h, w, channels)` samples; token ids are judged as
            `(steps, vocabulary)` distributions, by a strided Conv1D. The
            `"autoencoder"` and `"next_step"` recipes do not train it.
        decoder: a `keras.Model` from the extractor's output shape back to its
            input shape. Defaults to `keras_ganinit.mirror(extractor)`, the
            extractor's graph walked back from output to input: Dense back to
            the previous width, ConvND to ConvNDTranspose, pooling to
            upsampling, Flatten to Reshape, merges to fan-outs, Concatenate
            to a split (docs/architectures.md). Pass
            `keras_ganinit.mirror(extractor, tied=True)` for the literal
            extractor^T that reuses the extractor's kernels, or start from
            `mirror(...)` and change it.
        adversarial_loss: the generator's adversarial term, by name:
            `"non_saturating"` (the default, in both recipes: the standard GAN
            loss in its non-saturating form, -log D(G(x))),
            `"minimax"` (the saturating log(1 - D(G(x))) of the GAN paper's
            value function, which the GAN paper itself replaces with the
            non-saturating form because it learns slowly while the
            discriminator wins) or `"feature_matching"` (the squared
            difference between the mean features of real and generated
            batches at the discriminator's last hidden layer, Salimans et al.
            2016; needs a Sequential or functional discriminator).
            Non-saturating won the benchmark against feature matching
            (docs/benchmarks/init-quality.md).
        reconstruction_weight: weight of the L1 term between generator output
            and input added to the generator's loss (0 for a pure GAN). None
            takes the recipe's value.
        calibration: whether `fit` ends by calibrating the extractor's kernels
            and biases (`calibrate()`: nearest orthogonal matrix, then LSUV
            with centered biases, on the first 512 training samples). None
            takes the recipe's value.
        calibration_target_std: the output standard deviation calibration
            gives each layer: None (the default) for 1, or 0.5 for tanh
            layers; or one number > 0 for every layer. With tanh networks
            trained on much labelled data, 1.0 started faster in the
            benchmark (docs/benchmarks/init-quality.md).
        recipe: the named bundle of choices. `"default"`
            (reconstruction_weight=1.0, calibration=True: the measured best
            for MLP and CNN extractors) or `"paper"`
            (reconstruction_weight=0.0, calibration=False: the research
            paper's adversarial-only form, kernels transferred as trained);
            docs/benchmarks/init-quality.md compares them. Two recipes
            without a discriminator, from the sequence literature (Dai & Le
            2015), then calibration: `"autoencoder"` (the mirror
            reconstructs the input) and `"next_step"` (a per-step readout
            predicts each next step from the features so far; the extractor
            must return a sequence as long as its input and be causal,
            which is checked; docs/sequences.md). Arguments you pass
            override the recipe's reconstruction_weight and calibration.
        seed: an integer that makes everything random this model creates
            reproducible (a `keras.random.SeedGenerator` gives one integer
            draw, which the model's config then holds): the initial weights
            of the mirror and of the default discriminator it builds, and
            the order in which `fit(steps=...)` repeats small data. None
            draws them from Keras's global seed
            (`keras.utils.set_random_seed`), as Keras layers do.
            The extractor, and a decoder or discriminator you pass, keep their
            own weights.
        fallback: whether `fit` checks that pretraining did no harm: with
            calibration on, it compares the effective rank of the calibrated,
            pretrained extractor's features on the first 512 training
            samples with that of its starting weights, calibrated alike, and
            keeps the calibrated start (with a warning, and
            `gan.fell_back = True`) when the pretrained rank is below half
            of it: features that collapsed start supervised training worse
            than calibration alone (docs/pretraining.md, "Do no harm").
            `gan.feature_ranks` holds the two ranks.
        **kwargs: passed to `keras.Model` (`name`, ...). The 0.1 arguments
            `preset`, `calibrate`, `tied_weights` and `feature_matching` still
            work, with a `DeprecationWarning` naming their replacement;
            `input_noise` is gone (CHANGELOG.md).

    Example:

    >>> import keras, numpy as np, keras_ganinit
    >>> extractor = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(8, activation="relu", name="fe1")])
    >>> gan = keras_ganinit.GanInitModel(extractor)
    >>> gan.compile()
    >>> history = gan.fit(np.random.rand(64, 16), epochs=1, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss', 'loss', 'reconstruction_loss']
    >>> init = gan.initializer("fe1")
    >>> tuple(init((16, 8)).shape)
    (16, 8)
    """

    def __init__(
        self,
        extractor: keras.Model,
        discriminator: keras.Model | None = None,
        decoder: keras.Model | None = None,
        adversarial_loss: str = "non_saturating",
        reconstruction_weight: float | None = None,
        calibration: bool | None = None,
        calibration_target_std: float | None = None,
        recipe: str = "default",
        seed: Seed = None,
        fallback: bool = True,
        **kwargs: Any,
    ) -> None:
        legacy = _legacy.translate(
            kwargs, from_config=kwargs.pop("_from_config", False)
        )
        super().__init__(**kwargs)
        recipe = legacy.get("recipe", recipe)
        calibration = legacy.get("calibration", calibration)
        adversarial_loss = legacy.get("adversarial_loss", adversarial_loss)
        recipe = check_recipe(recipe)
        adversarial_loss = check_adversarial_loss(adversarial_loss)
        seed = seed_value(check_seed(seed))
        if reconstruction_weight is None:
            reconstruction_weight = RECIPES[recipe]["reconstruction_weight"]
        if calibration is None:
            calibration = RECIPES[recipe]["calibration"]
        calibration = check_calibration(calibration)
        fallback = check_flag(
            fallback,
            "fallback",
            "True keeps the calibrated starting weights when pretraining "
            "collapsed the features.",
        )
        input_shape = single_input_shape(extractor, "extractor")
        feature_shape = tuple(extractor.outputs[0].shape[1:])
        recipe_of = RECIPES[recipe]
        adversarial = recipe_of.get("adversarial", True)
        target = recipe_of.get("target", "input")
        form = samples_of(extractor)
        # What the generator gives back: the input's shape, or token logits.
        output_shape = form.shape(input_shape) if form.tokens else tuple(input_shape)
        if target == "next_step":
            _next_step.check_sequence(extractor, input_shape, feature_shape)
            _next_step.check_causal(extractor, input_shape, form)
        if decoder is not None:
            if legacy.get("tied_weights"):
                raise ValueError(
                    f"tied_weights=True makes the automatic mirror reuse the "
                    f"extractor's kernels, but a decoder was passed "
                    f"({decoder.name!r}). Leave decoder=None, or build yours "
                    f"from keras_ganinit.mirror(extractor, tied=True)."
                )
            check_decoder(
                decoder,
                feature_shape,
                output_shape,
                "token ids' shape, then its vocabulary,"
                if form.tokens
                else "input shape",
            )
            _tied.attach(decoder, extractor)
        elif target == "next_step":
            decoder = _next_step.readout(extractor, input_shape, feature_shape, form)
            if seed is not None:
                redraw(decoder, seed)
        else:
            decoder = mirror(
                extractor, tied=legacy.get("tied_weights", False), seed=seed
            )
        if discriminator is None:
            discriminator = default_discriminator(output_shape)
            if seed is not None:
                redraw(discriminator, seed + 1)
        else:
            check_discriminator(discriminator, output_shape)
        reconstruction_weight = non_negative(
            reconstruction_weight, "reconstruction_weight", "0 for a pure GAN"
        )
        if not adversarial and reconstruction_weight == 0:
            raise ValueError(
                f"recipe={recipe!r} trains by its reconstruction alone, but "
                f"reconstruction_weight=0 leaves nothing to train. Leave "
                f"reconstruction_weight=None, or use recipe='paper' for the "
                f"adversarial loss alone."
            )
        self.extractor = extractor
        self.decoder = decoder
        self.discriminator = discriminator
        self.adversarial_loss = adversarial_loss
        self.reconstruction_weight = reconstruction_weight
        # Set by the recipe: whether a discriminator plays, what the
        # generator's output is compared with ("input" or "next_step"), and
        # the samples' form (real values, or token ids: samples.py).
        self.adversarial = adversarial
        self.target = target
        self.samples = form
        # Not tracked: it shares the discriminator's layers and variables.
        object.__setattr__(
            self,
            "_discriminator_features",
            feature_model(discriminator)
            if adversarial_loss == "feature_matching"
            else None,
        )
        self.calibration = calibration
        self.calibration_target_std = check_target(calibration_target_std)
        self.recipe = recipe
        self.seed = seed
        self.fallback = fallback
        # Whether fit() fell back to the calibrated start, and the effective
        # ranks it compared (pretrained, start): None until a fit decides.
        self.fell_back: bool | None = None
        self.feature_ranks: tuple | None = None
        # Whether the extractor's weights are calibrated: set by fit() and
        # calibrate(); a loaded model does not know, so None.
        self.calibrated: bool | None = None
        # Orders the repeated data of fit(steps=...): seeded with the model.
        self._order_rng = None if seed is None else np.random.default_rng(seed + 2)
        self.generator_optimizer = None
        self.discriminator_optimizer = None
        self._loss_tracker = keras.metrics.Mean(name="loss")
        self._d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self._g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self._reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.build((None, *input_shape))

    def build(self, input_shape):
        # The three networks are built when they are handed in.
        self.built = True

    def call(self, inputs, training=None):
        """Runs the generator: the extractor, then its mirror."""
        features = self.extractor(inputs, training=training)
        return self.decoder(features, training=training)

    @property
    def generator_trainable_variables(self):
        """The extractor's and decoder's trainable variables."""
        return self.extractor.trainable_variables + self.decoder.trainable_variables

    @property
    def metrics(self):
        return [
            self._loss_tracker,
            self._d_loss_tracker,
            self._g_loss_tracker,
            self._reconstruction_tracker,
        ]

    def compile(
        self,
        generator_optimizer: keras.optimizers.Optimizer | None = None,
        discriminator_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        """Sets the two players' optimizers.

        Args:
            generator_optimizer: optimizer (instance, name or config) for the
                extractor and decoder. Defaults to `Adam(2e-4, beta_1=0.5)`
                (DCGAN's), or `Adam(1e-3)` for the recipes without a
                discriminator ("autoencoder", "next_step").
            discriminator_optimizer: optimizer for the discriminator; the same
                default. It must be another object than `generator_optimizer`.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`,
                `steps_per_execution`, `run_eagerly`, `auto_scale_loss`).
                Unless you pass `steps_per_execution` or `run_eagerly=True`,
                it is 16 on TensorFlow and JAX (1 on PyTorch, which allows no
                other): Keras's per-step overhead then runs once per 16
                steps, and batch-level callbacks see every 16th step. The
                losses are the GAN's own, so `loss`, `metrics` and
                `optimizer` are refused. Under the `"mixed_float16"` dtype
                policy each player's optimizer is wrapped in a
                `LossScaleOptimizer` (unless it is one already, or
                `auto_scale_loss=False`), as Keras does for one optimizer.
        """
        fixed = [name for name in FIXED_COMPILE_ARGS if name in kwargs]
        if fixed:
            raise ValueError(
                f"GanInitModel.compile() does not take {', '.join(fixed)}: the "
                f"losses are the GAN's own and there are two optimizers. Use "
                f"compile(generator_optimizer=..., discriminator_optimizer=...)."
            )
        generator_optimizer = keras.optimizers.get(generator_optimizer)
        discriminator_optimizer = keras.optimizers.get(discriminator_optimizer)
        if generator_optimizer is None:
            generator_optimizer = default_optimizer(self.adversarial)
        if discriminator_optimizer is None:
            discriminator_optimizer = default_optimizer()
        if generator_optimizer is discriminator_optimizer:
            raise ValueError(
                "generator_optimizer and discriminator_optimizer are the same "
                "object, so the two players would share one optimizer state. "
                "Pass two optimizer objects, e.g. keras.optimizers.Adam(2e-4) "
                "twice."
            )
        config = dict(kwargs)
        self._auto_steps_per_execution = (
            "steps_per_execution" not in kwargs and not kwargs.get("run_eagerly")
        )
        if self._auto_steps_per_execution:
            kwargs["steps_per_execution"] = _trainer.STEPS_PER_EXECUTION
        # As keras.Model.compile does for its one optimizer: under the
        # mixed_float16 policy each player gets a dynamic loss scale, so small
        # float16 gradients do not underflow to zero.
        if kwargs.pop("auto_scale_loss", True) and _players.uses_mixed_float16(
            self, self.extractor, self.decoder, self.discriminator
        ):
            generator_optimizer = _players.loss_scaled(generator_optimizer)
            discriminator_optimizer = _players.loss_scaled(discriminator_optimizer)
        # Built now, not at the first step: the saved optimizer state can then
        # be restored on load, and distribution strategies see the variables.
        generator_optimizer.build(self.generator_trainable_variables)
        discriminator_optimizer.build(self.discriminator.trainable_variables)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        super().compile(optimizer=self._both_players(), auto_scale_loss=False, **kwargs)
        self.optimizer.build(self.trainable_variables)
        self._compile_kwargs = config

    def _both_players(self):
        discriminator_paths = [v.path for v in self.discriminator.trainable_variables]
        clashes = sorted(
            {v.path for v in self.generator_trainable_variables}
            & set(discriminator_paths)
        )
        if clashes:
            raise ValueError(
                f"Variables of the generator and the discriminator share the "
                f"paths {clashes}, so their optimizers cannot be told apart. Give "
                f"the extractor, decoder and discriminator models distinct names."
            )
        return _players.Players(
            self.generator_optimizer, self.discriminator_optimizer, discriminator_paths
        )

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            **self._compile_kwargs,
            "generator_optimizer": keras.saving.serialize_keras_object(
                self.generator_optimizer
            ),
            "discriminator_optimizer": keras.saving.serialize_keras_object(
                self.discriminator_optimizer
            ),
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("generator_optimizer", "discriminator_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def fit(
        self, x: Any = None, y: Any = None, steps: int | None = None, **kwargs: Any
    ) -> keras.callbacks.History:
        """Trains as `keras.Model.fit` does; then calibrates if `calibration`.

        `steps=N` budgets the pretraining in steps rather than epochs: N
        updates of each player whatever the dataset's size, in one epoch
        (or split over `epochs`). Small data is repeated and reshuffled
        inside the epoch, so Keras's per-epoch machinery runs once, not
        hundreds of times; large data is cut to the batches needed. It takes
        arrays, tensors and `tf.data.Dataset`s; `steps_per_epoch` then may
        not be given. Given neither `steps` nor `epochs` (nor
        `steps_per_epoch`), `fit` on such input runs the default budget,
        `steps=200`, rather than Keras's one epoch: the budget measured to
        keep the accuracy at a pretraining cost below the supervised run's
        (docs/benchmarks/init-quality.md).

        With `calibration=True` (the default recipe), the extractor's kernels
        are calibrated with `calibrate()` on the first 512 training samples
        once training ends, so what is saved and transferred is calibrated;
        `gan.calibrated` then says whether that happened (a batch that
        cannot be taken or a layer that cannot be calibrated is a warning,
        and leaves the weights as trained).

        Non-finite values never reach the weights unannounced. NumPy or tensor
        input (`x`, `validation_data`) with NaN or inf is refused with a
        `ValueError` before any training, as is an empty one, or one with a
        single sample when calibrating. Other input (a `tf.data.Dataset`, a
        `PyDataset`) is watched while training: at the first step whose
        logged losses are NaN or inf, training stops, the three networks and
        both optimizers are restored to their state at the start of that
        epoch, and `fit` raises `FloatingPointError` saying so (the restored
        extractor is not calibrated; `gan.history` keeps the losses so far).
        """
        arrays.check_samples(x, "x", 2 if self.calibration else 1)
        if not rescales_its_input(self.extractor):
            arrays.warn_if_unscaled(x, "GanInitModel.fit()")
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            validation = validation[0]
        arrays.check_samples(validation, "validation_data", 1)
        data = x
        if steps is None and _budget.unbudgeted(x, kwargs):
            steps = DEFAULT_STEPS
        if steps is not None:
            data, kwargs = _budget.by_steps(x, steps, kwargs, self._order_rng)
            y = None  # Labels are ignored; the repeated inputs stand alone.
        self._fit_steps_per_execution(kwargs.get("steps_per_epoch"))
        # The starting weights, for the check that pretraining did no harm.
        start = (
            values_of(self.extractor) if self.calibration and self.fallback else None
        )
        guard = NonFiniteGuard()
        guard.set_model(self)
        kwargs["callbacks"] = _first(guard, kwargs.get("callbacks"))
        try:
            history = super().fit(data, y, **kwargs)
        finally:
            if isinstance(kwargs["callbacks"], keras.callbacks.CallbackList):
                kwargs["callbacks"].callbacks.remove(guard)  # The user's list.
        if guard.tripped:
            raise FloatingPointError(
                f"{guard.message} Usual causes: learning rates too high for "
                f"the data (the defaults are Adam(2e-4, beta_1=0.5)), inputs "
                f"of very large magnitude (scale them to about unit range), or "
                f"NaN or inf in a dataset or generator (only arrays are checked "
                f"before training). Fix that and fit again; to keep the "
                f"restored weights instead, call gan.calibrate(x) before "
                f"saving."
            )
        self.calibrated = False
        if self.calibration:
            self.calibrated = calibrate_after_fit(
                self.extractor, x, self.calibration_target_std
            )
        if self.calibrated and start is not None:
            checked = fall_back_if_collapsed(
                self.extractor, start, x, self.calibration_target_std
            )
            if checked is not None:
                self.fell_back, *ranks = checked
                self.feature_ranks = tuple(ranks)
        return history

    def _fit_steps_per_execution(self, steps_per_epoch):
        """Keeps our own steps_per_execution a divisor of `steps_per_epoch`.

        Keras runs whole executions: with data that does not run out (a
        repeated dataset), 16 steps per call would overrun an epoch of 10.
        An epoch shorter than that runs one step per call: tracing the loop
        that runs several costs more than it saves there (a 2-step fit on
        TensorFlow: 0.67 s against 0.87 s). A value the user chose is left
        alone.
        """
        if not getattr(self, "_auto_steps_per_execution", False):
            return
        wanted = _trainer.STEPS_PER_EXECUTION
        if steps_per_epoch:
            steps_per_epoch = int(steps_per_epoch)
            wanted = (
                1 if steps_per_epoch < wanted else math.gcd(wanted, steps_per_epoch)
            )
        if wanted != self.steps_per_execution:
            self.steps_per_execution = wanted
            self.train_function = None  # Rebuilt for the new count.

    @renamed_arguments(x_batch="x")
    def calibrate(
        self, x: Any, verbose: int | str = 0, samples: int | None = SAMPLES
    ) -> "GanInitModel":
        """Conditions the extractor's kernels and biases for transfer.

        Each Dense/Conv kernel of the extractor becomes its nearest orthogonal
        matrix (U V^T of its SVD: the directions it learned, every singular
        value 1); then, first layer to last, `lsuv(..., center=True)` rescales
        each kernel so the layer's output has standard deviation
        `calibration_target_std` on `x` (by default 1, or 0.5 for tanh
        layers) and shifts its bias so every output unit has zero mean there.
        BatchNormalization moving statistics are then set to their inputs' on
        `x` (with one more pass per such layer, so later layers are
        calibrated through them). `fit` does this by itself when
        `calibration=True`. Transfer the biases (and normalization variables)
        too, to keep the centering.

        Args:
            x: real input samples, in any form `keras_ganinit.calibrate`
                takes (`x_batch=`, its name before 0.3.0, is deprecated).
            verbose: 0 (silent) or 1: print each layer's output std and mean
                before and after (the report `keras_ganinit.calibrate`
                returns).
            samples: how many of the first samples of `x` to measure (None:
                all of an array).

        Returns:
            This model.
        """
        if not rescales_its_input(self.extractor):
            arrays.warn_if_unscaled(x, "GanInitModel.calibrate()")
        calibrate(
            self.extractor,
            x,
            target_std=self.calibration_target_std,
            samples=samples,
            verbose=verbose,
            warn_unscaled=False,  # said just above, at the caller's line
        )
        self.calibrated = True
        return self

    def make_train_function(self, force=False):
        _trainer.check_backend()
        return super().make_train_function(force=force)

    def make_test_function(self, force=False):
        _trainer.check_backend()
        return super().make_test_function(force=force)

    def train_step(self, *args):
        return _trainer.backend_trainer.train_step(self, *args)

    def test_step(self, *args):
        return _trainer.backend_trainer.test_step(self, *args)

    def initializer(
        self, layer: str | int, variable: str = "kernel"
    ) -> GanPretrainedInitializer:
        """Returns a `GanPretrainedInitializer` bound to this model.

        Args:
            layer: the extractor layer's name, or the index of a kernel-owning
                layer of the extractor.
            variable: "kernel" or "bias".
        """
        return GanPretrainedInitializer(source=self, layer=layer, variable=variable)

    def get_config(self):
        return {
            **super().get_config(),
            "extractor": keras.saving.serialize_keras_object(self.extractor),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "adversarial_loss": self.adversarial_loss,
            "reconstruction_weight": self.reconstruction_weight,
            "calibration": self.calibration,
            "calibration_target_std": self.calibration_target_std,
            "recipe": self.recipe,
            "seed": self.seed,
            "fallback": self.fallback,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)  # Keras's deserializer consumes it.
        for key in ("extractor", "discriminator", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config, _from_config=True)


def _first(callback, callbacks):
    """`callbacks` (None, a list or a CallbackList) with `callback` first."""
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks.callbacks.insert(0, callback)
        return callbacks
    return [callback, *(callbacks or [])]
