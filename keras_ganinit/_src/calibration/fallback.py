"""Do no harm: keep the calibrated start when pretraining collapsed the features."""

import warnings

import keras
import numpy as np

from keras_ganinit._src.calibration.calibrate import calibrate
from keras_ganinit._src.diagnostics.statistics import effective_rank
from keras_ganinit._src.utils.data import samples_fit_got

# Pretrained features whose effective rank falls below this share of the
# calibrated start's are a collapse, not a representation (docs/pretraining.md,
# "Do no harm", has the measurements this was set from).
COLLAPSE_RATIO = 0.5


def values_of(model):
    """Copies of every weight of `model`, to put back with `restore`."""
    return [np.array(keras.ops.convert_to_numpy(w)) for w in model.weights]


def restore(model, values):
    for weight, value in zip(model.weights, values, strict=True):
        weight.assign(value)


def fall_back_if_collapsed(extractor, start, x, target_std):
    """Puts the calibrated start back if pretraining collapsed the features.

    Compares the effective rank of the calibrated, pretrained extractor's
    features on the first samples of `x` with that of its starting weights
    `start`, calibrated on the same samples. Below `COLLAPSE_RATIO` of the
    start's, the extractor keeps the calibrated start and a warning says so.

    Returns:
        (whether it fell back, the pretrained features' effective rank, the
        calibrated start's), or None when no batch can be taken from `x`.
    """
    batch = samples_fit_got(x, extractor)
    if batch is None:
        return None
    pretrained = values_of(extractor)
    pretrained_rank = effective_rank(extractor.predict(batch, verbose=0))
    restore(extractor, start)
    try:
        calibrate(
            extractor, batch, target_std=target_std, samples=None, warn_unscaled=False
        )
    except (TypeError, ValueError):
        restore(extractor, pretrained)  # the start cannot be calibrated: keep ours
        return None
    start_rank = effective_rank(extractor.predict(batch, verbose=0))
    if pretrained_rank >= COLLAPSE_RATIO * start_rank:
        restore(extractor, pretrained)
        return False, pretrained_rank, start_rank
    warnings.warn(
        f"GanInitModel's pretraining collapsed the extractor's features: their "
        f"effective rank on {len(batch)} training samples is "
        f"{pretrained_rank:.1f}, against {start_rank:.1f} for the calibrated "
        f"starting weights (below {COLLAPSE_RATIO:g} of it). Features this "
        f"narrow start supervised training worse than calibration alone, so "
        f"the extractor keeps the calibrated starting weights "
        f"(gan.fell_back is True). Pass fallback=False to keep the "
        f"pretrained weights anyway, or try fewer steps or "
        f"reconstruction_weight=10.",
        UserWarning,
        stacklevel=3,
    )
    return True, pretrained_rank, start_rank
