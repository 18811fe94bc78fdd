"""Renamed arguments: the old name keeps working for a while, with a dated warning.

>>> import warnings
>>> @renamed_arguments(x_batch="x")
... def measure(model, x=None):
...     return x
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     measure(None, x_batch=3)
3
>>> "deprecated since keras_ganinit 0.3.0" in str(caught[0].message)
True
"""

import functools
import inspect
import warnings

# When the names of the one-vocabulary pass (docs/contributing.md) were
# deprecated, and the release that drops the old names.
DEPRECATED_IN = "0.3.0 (2026-12-07)"
REMOVED_IN = "0.5.0"


def renamed_arguments(**renames):
    """Decorates a function so `old=` keyword arguments still reach `new=`.

    Args:
        **renames: `old="new"` for each renamed argument.

    Passing the old name warns (`DeprecationWarning`, naming the new one, the
    date and the release that removes it); passing both is a TypeError.
    `inspect.signature` of the decorated function shows the new names only.
    """

    def decorate(function):
        who = function.__qualname__
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                given = signature.bind_partial(*args).arguments
                if new in kwargs or new in given:
                    raise TypeError(
                        f"{who}() got both {old}= and {new}=, which are one "
                        f"argument under its old and new names. Pass {new}= only."
                    )
                warnings.warn(
                    f"{who}({old}=...) is deprecated since keras_ganinit "
                    f"{DEPRECATED_IN} and will be removed in {REMOVED_IN}; pass "
                    f"{new}= instead (the same meaning).",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        wrapper.renamed_arguments = dict(renames)
        return wrapper

    return decorate
