"""Test problems shared by the array-library tests, written in plain numpy so that
they run on numpy, dask and CuPy arrays alike, with their closed-form derivatives
(evaluated on numpy data: the truth)."""
import numpy as np


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    H[i + 1, i + 1] += 200
    H[i, i + 1] = H[i + 1, i] = -400 * x[:-1]
    return H


def logistic(X, y):
    """The mean logistic loss of the weights w for the data X and labels y (+-1)."""
    def loss(w):
        return np.mean(np.logaddexp(0, -y * (X @ w)))
    return loss
