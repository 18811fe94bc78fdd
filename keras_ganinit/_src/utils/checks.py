"""The package's argument checks: each raises an error that says what to pass.

>>> positive_int(3, "steps")
3
>>> non_negative("0.5", "reconstruction_weight")
0.5
"""

import numbers
from typing import Union

import keras
import numpy as np

# What a `seed=` argument takes, as in Keras: an int, None or a SeedGenerator.
Seed = Union[int, keras.random.SeedGenerator, None]  # noqa: UP007


def is_number(value):
    """Whether `value` is a real number (NumPy scalars too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _meaning(meaning):
    return f" ({meaning})" if meaning else ""


def check_seed(seed, who="", purpose="reproducible weights and data order"):
    """`seed` checked, as Keras takes seeds: an int, None or a SeedGenerator.

    A SeedGenerator's config (a dict, as `get_config` writes it) is read back
    into one. A TypeError says what to pass for anything else. `who` prefixes
    the argument's name in the message ("DeltaOrthogonal's "); `purpose` says
    what a seed makes reproducible.
    """
    if isinstance(seed, dict):
        seed = keras.saving.deserialize_keras_object(seed)
    if isinstance(seed, keras.random.SeedGenerator):
        return seed
    if seed is not None and (
        isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(
            f"{who}seed must be an integer, None or a keras.random.SeedGenerator, "
            f"but got {seed!r}. Pass e.g. seed=0 for {purpose}, or seed=None "
            f"for a random draw."
        )
    return None if seed is None else int(seed)


def seed_value(seed):
    """A checked seed as an int or None: a SeedGenerator gives its next draw."""
    if isinstance(seed, keras.random.SeedGenerator):
        drawn = keras.random.randint((), 0, 2**31 - 1, seed=seed)
        return int(keras.ops.convert_to_numpy(drawn))
    return seed


def seed_config(seed):
    """A checked seed as a config holds it (a SeedGenerator serialized)."""
    if isinstance(seed, keras.random.SeedGenerator):
        return keras.saving.serialize_keras_object(seed)
    return seed


def check_flag(value, name, hint, who=""):
    """`value` as a bool if it is True or False (NumPy's too), else a TypeError.

    `who` prefixes the argument's name ("LooksLinear's "); `hint` says what
    each value means.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}{name} must be True or False, but got {value!r}. {hint}")
    return bool(value)


def positive_int(value, name, meaning=None):
    """`value` as an int if it is an integer >= 1, else a ValueError."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or int(value) < 1
    ):
        raise ValueError(
            f"{name} must be an integer >= 1{_meaning(meaning)}, but got {value!r}."
        )
    return int(value)


def non_negative(value, name, meaning=None):
    """`value` as a float if it is a number >= 0 (or a numeric string)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, (bool, np.bool_)) or not number >= 0.0:
        raise ValueError(
            f"{name} must be a number >= 0{_meaning(meaning)}, but got {value!r}."
        )
    return number


def positive_number(value, name, meaning=None):
    """`value` as a float if it is a finite number > 0, else a ValueError."""
    if not (is_number(value) and np.isfinite(value) and value > 0):
        raise ValueError(
            f"{name} must be a finite number > 0{_meaning(meaning)}, but got {value!r}."
        )
    return float(value)


def fraction(value, name, meaning=None):
    """`value` as a float if it is a number in [0, 1], else a ValueError."""
    if not (is_number(value) and 0 <= value <= 1):
        raise ValueError(
            f"{name} must be a fraction between 0 and 1{_meaning(meaning)}, but "
            f"got {value!r}."
        )
    return float(value)


def check_verbose(verbose, who):
    """`verbose` as Keras takes it: 0, 1, 2 or "auto" (True and False as 1 and 0).

    Returns the level as an int ("auto" is 1, as in Keras outside
    notebooks); 0 is silent.
    """
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    if verbose == "auto":
        return 1
    if isinstance(verbose, numbers.Integral) and 0 <= int(verbose) <= 2:
        return int(verbose)
    raise ValueError(
        f"{who}'s verbose must be a Keras verbosity level, 0 (silent), 1, 2 or "
        f"'auto', but got {verbose!r}. Pass verbose=1 to see what it does."
    )
