"""The calibration `GanInitModel.fit` ends with, and the warnings it may give."""

import warnings

import keras

from keras_ganinit._src.calibration.calibrate import calibrate
from keras_ganinit._src.utils.data import samples_fit_got


def calibrate_after_fit(extractor, x, target_std):
    """Calibrates `extractor` on the first samples of what `fit` was given.

    A failure to calibrate (no batch can be taken from `x`, or a layer that
    cannot be calibrated) is a warning, not an error: the pretraining is
    done and its weights stay as trained.

    Returns:
        Whether the extractor was calibrated.
    """
    _warn_if_calibrating_a_local_shard()
    batch = samples_fit_got(x, extractor)
    if batch is None:
        warnings.warn(
            f"GanInitModel could not take a batch from the {type(x).__name__} "
            f"given to fit(), so the extractor was not calibrated. Call "
            f"gan.calibrate(x) with a few hundred real samples before "
            f"saving.",
            UserWarning,
            stacklevel=3,
        )
        return False
    try:
        calibrate(
            extractor,
            batch,
            target_std=target_std,
            samples=None,
            warn_unscaled=False,  # fit() has said so already
        )
    except (TypeError, ValueError) as error:
        warnings.warn(
            f"GanInitModel trained, but could not calibrate the extractor "
            f"({error}); its weights stay exactly as trained. Pass "
            f"calibration=False to silence this.",
            UserWarning,
            stacklevel=3,
        )
        return False
    return True


def _warn_if_calibrating_a_local_shard():
    """Warns when each process of a multi-process fit feeds its own data."""
    distribution = keras.distribution.distribution()
    if (
        getattr(distribution, "num_processes", 1) > 1
        and getattr(distribution, "auto_shard_dataset", True) is False
    ):
        warnings.warn(
            "GanInitModel is calibrating on this process's own data "
            "(auto_shard_dataset=False): each process would end with other "
            "weights. Pass calibration=False, then call gan.calibrate(x) "
            "with the same batch on every process (docs/distributed.md).",
            UserWarning,
            stacklevel=4,
        )
