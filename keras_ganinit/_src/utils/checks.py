"""The package's argument checks: each raises an error that says what to pass.

>>> positive_int(3, "steps")
3
>>> non_negative("0.5", "reconstruction_weight")
0.5
"""

import numbers

import numpy as np


def is_number(value):
    """Whether `value` is a real number (NumPy scalars too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _meaning(meaning):
    return f" ({meaning})" if meaning else ""


def check_seed(seed, who="", purpose="reproducible weights and data order"):
    """`seed` as an int, or None; a TypeError saying so if it is neither.

    `who` prefixes the argument's name in the message ("DeltaOrthogonal's ");
    `purpose` says what a seed makes reproducible.
    """
    if seed is not None and (
        isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)
    ):
        raise TypeError(
            f"{who}seed must be an integer or None, but got {seed!r}. Pass e.g. "
            f"seed=0 for {purpose}, or seed=None for a random draw."
        )
    return None if seed is None else int(seed)


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
