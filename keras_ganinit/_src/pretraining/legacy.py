"""GanInitModel's 0.1 arguments, translated to the ones that replaced them.

0.2.0 renamed `preset` to `recipe` and `calibrate` to `calibration`, moved
`tied_weights` into the decoder (`keras_ganinit.mirror(extractor, tied=True)`)
and `feature_matching` into `adversarial_loss`, and removed `input_noise`.
Code written for 0.1 keeps working with a `DeprecationWarning` until
`REMOVED_IN`, and models saved by 0.1 load without one (their config keys
are translated whatever the version).
"""

import warnings

# The release that drops the 0.1 argument names from GanInitModel(...).
REMOVED_IN = "0.4.0"

_NEW_NAMES = {
    "preset": "recipe",
    "calibrate": "calibration",
    "feature_matching": "adversarial_loss",
    "tied_weights": "tied_weights",
}


def translate(kwargs, from_config=False):
    """Pops 0.1 arguments from `kwargs`; returns them under their new names.

    Returns a dict that may hold `recipe`, `calibration`, `adversarial_loss`
    and `tied_weights` (a bool the constructor hands to the mirror).
    """
    found = {}
    for old, new in _NEW_NAMES.items():
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        if value is None:
            continue
        if old in ("feature_matching", "tied_weights") and not isinstance(value, bool):
            raise TypeError(f"{old} must be True, False or None, but got {value!r}.")
        if old == "feature_matching":
            found[new] = "feature_matching" if value else "non_saturating"
            replacement = f"adversarial_loss={found[new]!r}"
        elif old == "tied_weights":
            found[new] = value
            replacement = f"decoder=keras_ganinit.mirror(extractor, tied={value})"
        else:
            found[new] = value
            replacement = f"{new}={value!r}"
        if not from_config:
            warnings.warn(
                f"GanInitModel({old}=...) is deprecated since keras_ganinit "
                f"0.2.0 and will be removed in {REMOVED_IN}; pass {replacement} "
                f"instead.",
                DeprecationWarning,
                stacklevel=3,
            )
    _drop_input_noise(kwargs, from_config)
    return found


def _drop_input_noise(kwargs, from_config):
    if "input_noise" not in kwargs:
        return
    noise = kwargs.pop("input_noise")
    if not noise:
        if not from_config:
            warnings.warn(
                "GanInitModel(input_noise=...) was removed in keras_ganinit "
                "0.2.0; input_noise=0 changes nothing, so drop it.",
                DeprecationWarning,
                stacklevel=4,
            )
        return
    advice = (
        f"For a denoising generator, start the extractor with "
        f"keras.layers.GaussianNoise({noise!r}): it is active only while "
        f"training, has no weights, and the mirror skips it."
    )
    if from_config:
        # A 0.1 model saved with input noise still loads: the noise only
        # acted while pretraining, and the weights are all there.
        warnings.warn(
            f"This GanInitModel was saved with input_noise={noise!r}, which "
            f"keras_ganinit 0.2.0 no longer has; it loads without it, and "
            f"further fit() calls train without noise. {advice}",
            UserWarning,
            stacklevel=4,
        )
        return
    raise ValueError(
        f"GanInitModel(input_noise={noise!r}): input_noise was removed in "
        f"keras_ganinit 0.2.0 (it lost the benchmark in every cell). {advice}"
    )
