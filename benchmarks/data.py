"""The benchmarks' datasets, each loaded one way, its preprocessing stated.

Every loader returns a `Split`: flat float32 inputs (one row per sample),
int32 class labels, and the sample shape the networks reshape a row to.
Nothing is downloaded.

- `digits()`: scikit-learn's bundled 8x8 digits (1,797), pixels / 16 (so in
  [0, 1]), a stratified 70/30 split with random_state 0: 1,257 / 540.
- `mnist1d(samples)`: MNIST-1D generated offline by the `mnist1d` package
  (its default arguments but `num_samples`), its own 80/20 split, every
  feature standardized with the training split's mean and sd. (The raw
  features already have mean 0.00 and per-feature sd 0.77-1.12.)
- `shapes16(samples, test)`: ten outlines (disc, ring, square, frame,
  triangle, plus, cross, diamond, T, L) on 16x16 grey images, at a random
  position, size and tilt, over a random gradient with up to two blobs and
  pixel noise; brightness says nothing about the class. Drawn from seed
  2024, standardized with the training part's single mean and sd.
- `markov_tokens(samples, seed)`: token sequences (int32 ids, not
  standardized) of 8 classes, each class a first-order Markov chain over
  32 tokens; length 32.

>>> split = digits()
>>> split.x_train.shape, split.x_test.shape, split.shape, split.classes
((1257, 64), (540, 64), (8, 8, 1), 10)
>>> shapes16(100, 20).x_train.shape
(100, 256)
>>> x, y = markov_tokens(16)
>>> x.shape, x.dtype, sorted(set(y.tolist())) == list(range(8))
((16, 32), dtype('int32'), True)
"""

import dataclasses
import functools

import numpy as np

CLASSES = 10


@dataclasses.dataclass(frozen=True)
class Split:
    """Training and test data; `shape` is one sample's shape for the network."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    shape: tuple
    classes: int = CLASSES

    def head(self, n):
        """The same split with only the first `n` training samples."""
        return dataclasses.replace(
            self, x_train=self.x_train[:n], y_train=self.y_train[:n]
        )


def _split(x, y, x_test, y_test, shape):
    return Split(
        np.asarray(x, "float32"),
        np.asarray(y, "int32"),
        np.asarray(x_test, "float32"),
        np.asarray(y_test, "int32"),
        tuple(shape),
    )


@functools.cache
def digits():
    """scikit-learn's digits, pixels / 16, stratified 70/30 (random_state 0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data / 16.0,
        data.target,
        test_size=0.3,
        random_state=0,
        stratify=data.target,
    )
    return _split(x_train, y_train, x_test, y_test, (8, 8, 1))


@functools.cache
def mnist1d(samples=5000):
    """MNIST-1D of `samples` (80% train), standardized per feature."""
    import mnist1d as generator

    args = generator.data.get_dataset_args()  # generated, never downloaded
    args.num_samples = samples
    data = generator.data.make_dataset(args)
    x, x_test = data["x"].astype("float64"), data["x_test"].astype("float64")
    mean, sd = x.mean(0), x.std(0) + 1e-8
    return _split(
        (x - mean) / sd,
        data["y"],
        (x_test - mean) / sd,
        data["y_test"],
        (x.shape[1], 1),
    )


SHAPES16 = (
    "disc",
    "ring",
    "square",
    "frame",
    "triangle",
    "plus",
    "cross",
    "diamond",
    "tee",
    "ell",
)
SHAPES_SEED, SHAPES_SIZE = 2024, 16
SHAPES_BLOBS = ((0, SHAPES_SIZE), (0, SHAPES_SIZE), (0.8, 1.8))  # x, y, radius


def shape_mask(kind, u, v, r):
    """Pixels inside the outline `kind` at (u, v) from its centre, radius r."""
    box, rad, bar = np.maximum(np.abs(u), np.abs(v)), np.hypot(u, v), 0.32 * r
    if kind == "disc":
        return rad < r
    if kind == "ring":
        return (rad < r) & (rad > 0.55 * r)
    if kind == "square":
        return box < 0.8 * r
    if kind == "frame":
        return (box < 0.85 * r) & (box > 0.45 * r)
    if kind == "triangle":
        return (v < 0.6 * r) & (np.abs(u) < 0.6 * (v + r))
    if kind == "diamond":
        return np.abs(u) + np.abs(v) < r
    if kind == "cross":  # a plus turned by 45 degrees
        u, v = (u + v) / np.sqrt(2), (v - u) / np.sqrt(2)
    if kind in ("plus", "cross"):
        return ((np.abs(u) < bar) & (np.abs(v) < r)) | (
            (np.abs(v) < bar) & (np.abs(u) < r)
        )
    if kind == "tee":
        top = (np.abs(v + 0.7 * r) < bar) & (np.abs(u) < r)
        return top | ((np.abs(u) < bar) & (np.abs(v) < r))
    side = (np.abs(u + 0.7 * r) < bar) & (np.abs(v) < r)  # "ell"
    return side | ((np.abs(v - 0.7 * r) < bar) & (u > -r) & (u < 0.8 * r))


def draw_shapes(n, seed=SHAPES_SEED, size=SHAPES_SIZE):
    """(n flat images in about [0, 1], their classes), classes balanced."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(SHAPES16))
    y, x = np.mgrid[0:size, 0:size] + 0.5

    def per_image(values):
        return values[:, None, None]

    r = rng.uniform(3.0, 6.0, n)
    cx, cy = (per_image(rng.uniform(0.8 * r, size - 0.8 * r)) for _ in range(2))
    tilt = per_image(rng.uniform(-0.4, 0.4, n))
    r = per_image(r)
    u = np.cos(tilt) * (x - cx) + np.sin(tilt) * (y - cy)
    v = np.cos(tilt) * (y - cy) - np.sin(tilt) * (x - cx)
    angle = per_image(rng.uniform(0, 2 * np.pi, n))
    low, high = (per_image(rng.uniform(0, 0.4, n)) for _ in range(2))
    ramp = (np.cos(angle) * (x - size / 2) + np.sin(angle) * (y - size / 2)) / size
    image = low + (high - low) * np.clip(ramp + 0.5, 0, 1)
    for _ in range(2):  # clutter: up to two small blobs
        on = per_image(rng.random(n) < 0.6)
        bx, by, br = (per_image(rng.uniform(a, b, n)) for a, b in SHAPES_BLOBS)
        blob = on & (np.hypot(x - bx, y - by) < br)
        image = np.where(blob, per_image(rng.uniform(0.3, 1.0, n)), image)
    inside = np.zeros((n, size, size), bool)
    for c, kind in enumerate(SHAPES16):
        i = labels == c
        inside[i] = shape_mask(kind, u[i], v[i], r[i])
    image = np.where(inside, per_image(rng.uniform(0.6, 1.0, n)), image)
    image = image + rng.normal(0, 0.1, image.shape)
    return image.reshape(n, -1), labels


@functools.cache
def shapes16(samples, test):
    """`samples` training and `test` test images, standardized (one mean, sd)."""
    x, y = draw_shapes(samples + test)
    mean, sd = x[:samples].mean(), x[:samples].std()
    x = (x - mean) / sd
    return _split(
        x[:samples],
        y[:samples],
        x[samples:],
        y[samples:],
        (SHAPES_SIZE, SHAPES_SIZE, 1),
    )


MARKOV_SEED, MARKOV_CLASSES, MARKOV_TOKENS, MARKOV_LENGTH = 2025, 8, 32, 32
MARKOV_SHARED, MARKOV_CONCENTRATION = 0.6, 0.3


def markov_chains(classes=MARKOV_CLASSES, tokens=MARKOV_TOKENS):
    """The classes' transition matrices (classes, tokens, tokens):
    0.6 * a shared base + 0.4 * the class's own, every row of both drawn
    from Dirichlet(0.3) with the fixed seed MARKOV_SEED."""
    rng = np.random.default_rng(MARKOV_SEED)
    alpha = np.full(tokens, MARKOV_CONCENTRATION)
    base = rng.dirichlet(alpha, tokens)
    own = rng.dirichlet(alpha, (classes, tokens))
    return MARKOV_SHARED * base + (1 - MARKOV_SHARED) * own


@functools.cache
def markov_tokens(samples, seed=MARKOV_SEED):
    """(x int32 (samples, 32) token ids, y int32 (samples,)): 8 balanced
    classes in shuffled order, class c a first-order Markov chain over 32
    tokens (`markov_chains`; the first token uniform), drawn from `seed`.

    Why: a sequence task where order matters. The chains share most of
    their transitions, so the classes' token frequencies hardly differ: a
    logistic regression on the counts of each token (a bag of tokens) scores
    about 27% on this task, on the counts of each pair of consecutive tokens
    about 94%, and the Bayes classifier about 98%. A sequence network has to
    read which token follows which.
    """
    chains = markov_chains().cumsum(-1)  # each row's cumulative distribution
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(samples) % MARKOV_CLASSES).astype("int32")
    x = np.empty((samples, MARKOV_LENGTH), "int32")
    x[:, 0] = rng.integers(MARKOV_TOKENS, size=samples)
    for t in range(1, MARKOV_LENGTH):
        below = chains[y, x[:, t - 1]] < rng.random((samples, 1))
        x[:, t] = np.minimum(below.sum(1), MARKOV_TOKENS - 1)
    return x, y
