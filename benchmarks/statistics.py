"""Summaries over seeds and paired differences with t-based intervals.

One convention for every study: a spread over seeds is the sample standard
deviation (ddof=1), and an interval is the two-sided Student-t interval of
the mean, `mean ± t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n)`, with the t
quantile from `scipy.stats`. With 3 seeds the 95% multiplier is 4.30, with 5
it is 2.78 (not 2). Differences are paired by seed: each seed gives both
methods the same data, labels, head and batch order.

>>> s = paired([0.01, 0.03, 0.02])
>>> round(s.mean, 3), round(s.low, 3), round(s.high, 3), s.n
(0.02, -0.005, 0.045, 3)
>>> s.above_zero, s.below_zero
(False, False)
"""

import dataclasses
import math

import numpy as np
from scipy import stats

LEVEL = 0.95  # the confidence level of every interval, unless a study says


@dataclasses.dataclass(frozen=True)
class Interval:
    """A mean over `n` seeds, its sample sd and its t interval [low, high]."""

    mean: float
    sd: float
    low: float
    high: float
    n: int
    level: float = LEVEL

    @property
    def above_zero(self):
        return self.low > 0

    @property
    def below_zero(self):
        return self.high < 0

    def points(self, digits=1):
        """In accuracy points: "+2.0 [-0.5, +4.5]" (the mean alone for n < 2)."""
        mean = f"{100 * self.mean:+.{digits}f}"
        if math.isnan(self.low):
            return mean
        return f"{mean} [{100 * self.low:+.{digits}f}, {100 * self.high:+.{digits}f}]"


def t_multiplier(n, level=LEVEL):
    """The two-sided Student-t quantile for a mean of `n` values (n >= 2).

    >>> round(t_multiplier(3), 2), round(t_multiplier(5), 2)
    (4.3, 2.78)
    """
    if n < 2:
        raise ValueError(f"an interval needs at least 2 values, got {n}")
    return float(stats.t.ppf(1 - (1 - level) / 2, n - 1))


def interval(values, level=LEVEL):
    """The mean of `values`, its sd (ddof=1) and its t interval.

    One value gives its mean with sd, low and high NaN. Non-finite values
    are an error: a diverged run is recorded as such, not averaged.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"an interval needs finite values, got {v.tolist()}")
    if v.size < 2:
        return Interval(float(v[0]), math.nan, math.nan, math.nan, 1, level)
    sd = float(v.std(ddof=1))
    half = t_multiplier(v.size, level) * sd / math.sqrt(v.size)
    mean = float(v.mean())
    return Interval(mean, sd, mean - half, mean + half, int(v.size), level)


def paired(differences, level=LEVEL):
    """The interval of per-seed differences (method minus reference)."""
    return interval(differences, level)


def mean_sd(values, digits=3):
    """ "0.912 ± 0.004": mean and sample sd over seeds ("0.912" for one)."""
    s = interval(values)
    if s.n < 2:
        return f"{s.mean:.{digits}f}"
    return f"{s.mean:.{digits}f} ± {s.sd:.{digits}f}"
