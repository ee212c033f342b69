"""Test problems shared by the array-library tests, written in plain numpy so that
they run on numpy, dask and CuPy arrays alike, with their closed-form derivatives
(evaluated on numpy data: the truth)."""
import numpy as np

# the closed forms of the harness catalog, under this folder's names
from tests.harness.catalog import rosenbrock_grad as rosen_grad  # noqa: F401
from tests.harness.catalog import rosenbrock_hess as rosen_hess  # noqa: F401


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def logistic(X, y):
    """The mean logistic loss of the weights w for the data X and labels y (+-1)."""
    def loss(w):
        return np.mean(np.logaddexp(0, -y * (X @ w)))
    return loss
