"""Reconstructions: a callback that draws what the generator makes of real data."""

import io
import math
import os
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.utils import arrays
from keras_ganinit._src.utils import plots as _plots
from keras_ganinit._src.utils.checks import positive_int


def _figure(**kwargs):
    return _plots.new_figure("Reconstructions", **kwargs)


class Reconstructions(keras.callbacks.Callback):
    """Saves pictures of the generator's output on fixed samples while it trains.

    A callback for `GanInitModel.fit`. At the end of every `every`-th epoch it
    runs the generator (the extractor, then the decoder, in inference mode)
    on the same `x_samples` and writes a PNG,
    `{directory}/reconstructions_epoch_{epoch + 1:03d}.png`, showing each real
    sample beside what the generator made of it. The last epoch of a `fit`
    is written too, at the end of training, if `every` skipped it. An epoch
    whose logged losses are NaN or inf gets no picture (`GanInitModel.fit`
    stops there and restores the weights). The pictures show the generator as
    trained: `fit`'s calibration rescales the extractor afterwards for
    transfer, not for the decoder, so `gan(x)` after `fit` may look worse.

    How samples are drawn:

    - Images, `(h, w, c)` samples (`(c, h, w)` with `data_format=
      "channels_first"`), as a grid: real samples on the top row, the
      generator's output below them. One channel is drawn in grayscale,
      three as RGB, any other count as the mean over channels in grayscale.
      Every image of the grid is drawn on one fixed display range, that of
      the real samples shown (their smallest to their largest value), so
      real and generated images, and the pictures of different epochs, are
      comparable; generated values outside it are clipped. Data already in
      [0, 1] is drawn as it is.
    - Vectors `(features,)` and sequences `(steps, channels)` as line plots,
      one panel per sample with the real sample (solid) and the generated
      one (dashed) overlaid, one colour per channel.
    - With `image_shape`, every sample is first reshaped to it, so flat
      vectors can be drawn as images (the digits: 64 features,
      `image_shape=(8, 8)`).
    - Token ids (an extractor that starts with an `Embedding`): one panel per
      sample, the real ids over the ids the generator's logits rank first,
      one colour per id, titled with the share that match.
    - With `recipe="next_step"`, each step's output is drawn under the step
      it predicts (the input shifted by one).

    Args:
        x_samples: a NumPy array or a tensor of real samples shaped like the
            model's input; the first `max_samples` are drawn.
        directory: the folder to write the PNGs to, made if missing. Files
            in it other than the ones this callback writes are not touched;
            its own names are overwritten by a later `fit`.
        every: write a picture every this many epochs (counted as the file
            names count them, from 1).
        log_dir: a TensorBoard log folder; if given, each picture is also
            written there as an image summary tagged `"reconstructions"`
            at step `epoch` (TensorFlow's summary writer, with any backend).
        image_shape: a shape, `(h, w)` or `(h, w, c)` (`(c, h, w)` when
            channels first), to draw each sample as an image of; the product
            must equal the sample's size. None draws samples as they come.
        max_samples: how many of `x_samples` to draw.
        data_format: `"channels_last"` or `"channels_first"`, for 3-D samples
            and a 3-D `image_shape`; None takes
            `keras.config.image_data_format()`.
        dpi: the PNGs' resolution, in pixels per inch.

    Attributes:
        written: the paths of the PNGs written during the last `fit`.

    Example:

    >>> import os, tempfile, keras, numpy as np
    >>> from keras_ganinit import GanInitModel
    >>> from keras_ganinit.callbacks import Reconstructions
    >>> x = np.random.rand(64, 16).astype("float32")
    >>> extractor = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(8, activation="relu")])
    >>> gan = GanInitModel(extractor)
    >>> gan.compile()
    >>> pictures = Reconstructions(x[:4], tempfile.mkdtemp(), image_shape=(4, 4))
    >>> history = gan.fit(x, epochs=1, verbose=0, callbacks=[pictures])
    >>> print(*(os.path.basename(path) for path in pictures.written))
    reconstructions_epoch_001.png
    """

    def __init__(
        self,
        x_samples: Any,
        directory: "str | os.PathLike[str]",
        every: int = 1,
        log_dir: "str | os.PathLike[str] | None" = None,
        image_shape: tuple[int, ...] | None = None,
        max_samples: int = 8,
        data_format: str | None = None,
        dpi: int = 100,
    ) -> None:
        super().__init__()
        for name, value in (("every", every), ("max_samples", max_samples)):
            positive_int(value, name)
        positive_int(dpi, "dpi")
        self.data_format = _check_data_format(data_format)
        self.x_samples = _check_samples(x_samples)[:max_samples]
        self.image_shape = _check_image_shape(image_shape, self.x_samples.shape[1:])
        # image_shape asks for images, whatever the samples' own shape.
        self.layout = "image" if self.image_shape else _layout(self.x_samples.shape[1:])
        self.directory = os.fspath(directory)
        self.every = every
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.max_samples = max_samples
        self.dpi = dpi
        self.written: list[str] = []
        self._last_epoch: int | None = None
        self._last_written: int | None = None
        self._writer = None

    def on_train_begin(self, logs=None):
        _check_model(self.model, self.x_samples.shape[1:])
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise ValueError(
                f"Reconstructions writes its PNGs into directory="
                f"{self.directory!r}, but that is a file. Pass a folder's path "
                f"(it is made if missing)."
            )
        os.makedirs(self.directory, exist_ok=True)
        self.written = []
        self._last_epoch = self._last_written = None
        if self.log_dir is not None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        self._last_epoch = epoch
        if (epoch + 1) % self.every == 0:
            self._write(epoch)

    def on_train_end(self, logs=None):
        try:
            if self._last_epoch is not None and self._last_written != self._last_epoch:
                self._write(self._last_epoch)
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def _write(self, epoch):
        model = self.model
        tokens = getattr(getattr(model, "samples", None), "tokens", False)
        real = self.x_samples.astype("int32") if tokens else self.x_samples
        features = model.extractor(real, training=False)
        generated = keras.ops.convert_to_numpy(model.decoder(features, training=False))
        generated = np.asarray(generated, "float32")
        if getattr(model, "target", "input") == "next_step":
            # Each step's output predicts the next step: drawn under it.
            real, generated = real[:, 1:], generated[:, :-1]
        if tokens:
            fig = _draw_tokens(real, generated, epoch)
        else:
            if self.image_shape is not None:
                real = real.reshape((len(real), *self.image_shape))
                generated = generated.reshape(real.shape)
            fig = _draw(self.layout, real, generated, epoch, self.data_format)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self.dpi)
        png = buffer.getvalue()
        path = os.path.join(
            self.directory, f"reconstructions_epoch_{epoch + 1:03d}.png"
        )
        with open(path, "wb") as file:
            file.write(png)
        self.written.append(path)
        self._last_written = epoch
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default():
                image = tf.io.decode_png(png, channels=3)[None]
                tf.summary.image("reconstructions", image, step=epoch)
            self._writer.flush()


def _check_data_format(data_format):
    data_format = data_format or keras.config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last', 'channels_first' or None "
            f"(keras.config.image_data_format()), but got {data_format!r}."
        )
    return data_format


def _check_samples(x_samples):
    array = arrays.as_array(x_samples)
    if array is None:
        raise TypeError(
            f"x_samples must be a NumPy array or a tensor of a few real samples "
            f"shaped like the model's input, but got "
            f"{type(x_samples).__name__}. Pass e.g. x[:8]."
        )
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(
            f"x_samples must hold at least one sample, (samples, ...) with the "
            f"model's input shape after the first axis, but got shape "
            f"{array.shape}. Pass e.g. x[:8]."
        )
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"x_samples must hold numbers, but has dtype {array.dtype}. Pass "
            f"the real input samples the model trains on."
        )
    message = arrays.non_finite_message(array, "x_samples")
    if message:
        raise ValueError(
            f"{message}; there would be nothing to draw there. Pass finite samples."
        )
    return array.astype("float32")


def _check_image_shape(image_shape, sample_shape):
    if image_shape is None:
        if len(sample_shape) > 3:
            raise ValueError(
                f"Reconstructions draws vectors, sequences and images, but the "
                f"samples have shape {tuple(sample_shape)}. Pass image_shape=(h, "
                f"w) or (h, w, c) to draw each sample reshaped to an image."
            )
        return None
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if (
        not shape
        or len(shape) not in (2, 3)
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"image_shape must be a tuple (h, w) or (h, w, c) of positive "
            f"integers, but got {image_shape!r}."
        )
    if math.prod(shape) != math.prod(sample_shape):
        raise ValueError(
            f"image_shape={shape} holds {math.prod(shape)} values, but each "
            f"sample of shape {tuple(sample_shape)} has "
            f"{math.prod(sample_shape)}. Pass a shape with the same number of "
            f"values, e.g. (8, 8) for 64 features."
        )
    return shape


def _layout(shape):
    """How samples of `shape` are drawn: "image", "vector" or "sequence"."""
    if len(shape) == 1:
        return "vector"
    if len(shape) == 2:
        return "sequence"
    return "image"


def _check_model(model, sample_shape):
    if not all(hasattr(model, name) for name in ("extractor", "decoder")):
        raise TypeError(
            f"Reconstructions is meant for GanInitModel.fit: it runs the "
            f"model's generator (its `extractor`, then its `decoder`), but "
            f"{type(model).__name__} {getattr(model, 'name', '')!r} has no "
            f"extractor and decoder. Pass it in callbacks= of a GanInitModel's "
            f"fit."
        )
    try:
        expected = tuple(model.extractor.inputs[0].shape[1:])
    except (AttributeError, IndexError, ValueError):
        return
    if len(expected) != len(sample_shape) or any(
        e is not None and e != s for e, s in zip(expected, sample_shape, strict=True)
    ):
        raise ValueError(
            f"x_samples have shape {tuple(sample_shape)} per sample, but the "
            f"extractor {model.extractor.name!r} takes {expected}. Pass samples "
            f"of the training data, shaped as the data given to fit."
        )


def _finite(logs):
    return all(
        np.isfinite(float(value))
        for value in (logs or {}).values()
        if np.ndim(value) == 0
    )


def _draw(layout, real, generated, epoch, data_format="channels_last"):
    if layout == "image":
        if real.ndim == 4:
            real = _to_hwc(real, data_format)
            generated = _to_hwc(generated, data_format)
        return _draw_images(real, generated, epoch)
    if layout == "vector":
        real, generated = real[..., None], generated[..., None]
    return _draw_lines(real, generated, epoch)


def _to_hwc(images, data_format):
    return np.moveaxis(images, 1, -1) if data_format == "channels_first" else images


def _draw_images(real, generated, epoch):
    if real.ndim == 3:
        real, generated = real[..., None], generated[..., None]
    low, high = float(real.min()), float(real.max())
    if high <= low:
        high = low + 1.0
    count = len(real)
    fig = _figure(figsize=(1.3 * count + 0.6, 3.2))
    axes = fig.subplots(2, count, squeeze=False)
    for row, (label, images) in enumerate((("real", real), ("generated", generated))):
        for column, image in enumerate(images):
            axis = axes[row, column]
            image = np.clip((image - low) / (high - low), 0.0, 1.0)
            if image.shape[-1] == 3:
                axis.imshow(image, interpolation="nearest")
            else:
                axis.imshow(
                    image.mean(axis=-1),
                    cmap="gray",
                    vmin=0.0,
                    vmax=1.0,
                    interpolation="nearest",
                )
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(label)
    fig.suptitle(f"Epoch {epoch + 1}: real (top) and generated (bottom)")
    return fig


def _draw_lines(real, generated, epoch):
    """One panel per sample: (steps, channels) real solid, generated dashed."""
    count = len(real)
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    fig = _figure(figsize=(3.0 * columns, 2.2 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    colors = [f"C{i % 10}" for i in range(real.shape[-1])]
    for index, axis in enumerate(axes.flat):
        if index >= count:
            axis.set_axis_off()
            continue
        for channel, color in enumerate(colors):
            axis.plot(real[index, :, channel], color=color, linewidth=1.2)
            axis.plot(
                generated[index, :, channel], color=color, linewidth=1.2, linestyle="--"
            )
        axis.set_title(f"sample {index}", fontsize=8)
        axis.tick_params(labelsize=7)
    fig.suptitle(f"Epoch {epoch + 1}: real (solid) and generated (dashed)")
    return fig


def _draw_tokens(real, logits, epoch):
    """One panel per sample: the real token ids over the generated argmax
    ids (one colour per id), titled with the share of steps that match."""
    count = len(real)
    columns = min(count, 2)
    rows = math.ceil(count / columns)
    fig = _figure(figsize=(5.0 * columns, 1.2 * rows + 0.6))
    axes = fig.subplots(rows, columns, squeeze=False)
    guessed = logits.argmax(axis=-1)
    top = max(int(real.max()), int(guessed.max()), 1)
    for index, axis in enumerate(axes.flat):
        if index >= count:
            axis.set_axis_off()
            continue
        pair = np.stack([real[index], guessed[index]])
        axis.imshow(pair, cmap="tab20", vmin=0, vmax=top, aspect="auto")
        axis.set_yticks([0, 1], ["real", "generated"], fontsize=7)
        axis.tick_params(labelsize=7)
        share = float(np.mean(pair[0] == pair[1]))
        axis.set_title(f"sample {index}: {share:.0%} of ids match", fontsize=8)
    fig.suptitle(f"Epoch {epoch + 1}: real token ids over the generated argmax ids")
    return fig
