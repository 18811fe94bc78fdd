"""The nearest orthogonal matrix to a kernel: calibrate's first step."""

import numpy as np


def nearest_orthogonal(kernel):
    """U V^T of the kernel's SVD, as a (fan_in, fan_out) matrix, reshaped back.

    Keeps the kernel's row and column spaces (the directions it learned) and
    sets every singular value to 1, as an `Orthogonal` initializer would.
    """
    matrix = np.asarray(kernel, dtype="float64").reshape(-1, kernel.shape[-1])
    # The polar factor M (M^T M)^(-1/2), from the eigenvectors of the smaller
    # Gram matrix: the same U V^T, an order of magnitude faster than an SVD
    # on large kernels. An SVD where M is (nearly) rank-deficient.
    tall = matrix.shape[0] >= matrix.shape[1]
    a = matrix if tall else matrix.T
    eigenvalues, vectors = np.linalg.eigh(a.T @ a)
    if np.all(np.isfinite(eigenvalues)) and eigenvalues[0] > 1e-10 * eigenvalues[-1]:
        polar = a @ (vectors / np.sqrt(eigenvalues)) @ vectors.T
        polar = polar if tall else polar.T
    else:
        u, _, vt = np.linalg.svd(matrix, full_matrices=False)
        polar = u @ vt
    return polar.reshape(kernel.shape).astype("float32")
