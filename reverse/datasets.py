"""Toy data made in code: the spiral set and the sine curve, and minibatch iteration
(shuffled, or in parallel stretches of a series for truncated backprop through time).

Examples
--------
>>> x, t = spiral(seed=0)
>>> x.shape, t.shape, sorted(set(t.tolist()))
((300, 2), (300,), [0, 1, 2])
>>> loader = DataLoader(x, t, batch_size=100, seed=0)
>>> [xb.shape for xb, tb in loader]
[(100, 2), (100, 2), (100, 2)]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DataLoader", "SeqDataLoader", "SinCurve", "Spiral", "get_spiral", "spiral"]

#: the seeds of the book's DeZero spiral: training and test set
_BOOK_SEEDS = {True: 1984, False: 2020}


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def spiral(n_per_class: int = 100, n_classes: int = 3, seed: int | None = 0,
           noise: float = 0.2, shuffle: bool = True, *,
           train: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in the plane, one arm per class (DeZero's toy set).

    Point ``i`` of class ``j`` has radius ``r = i / n_per_class`` and angle
    ``theta = 4 j + 4 r + noise * N(0, 1)``; its coordinates are
    ``(r sin theta, r cos theta)``.

    Parameters
    ----------
    n_per_class, n_classes : int
        Points per class and number of classes.
    seed : int or None
        Seed of the numpy Generator; the same seed gives the same data.
    noise : float
        Standard deviation of the angular noise (radians).
    shuffle : bool
        Shuffle the samples (with the same generator).
    train : bool, optional
        The book's switch between a training set (``True``, seed 1984) and a
        test set (``False``, seed 2020); it replaces ``seed`` (give one).
        The points follow the same formula as the book's, drawn from a numpy
        Generator, so they are not the book's exact numbers.

    Returns
    -------
    x : ndarray of float64, shape (n_per_class * n_classes, 2)
    t : ndarray of int64, shape (n_per_class * n_classes,)
        Class labels in ``range(n_classes)``.

    Examples
    --------
    >>> x, t = spiral(n_per_class=4, n_classes=2, seed=1, shuffle=False)
    >>> t.tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    >>> float(np.abs(x).max()) < 1.0
    True
    """
    if train is not None:
        if seed != 0:
            raise TypeError("spiral: give seed or train (which picks the seed), not both")
        seed = _BOOK_SEEDS[bool(train)]
    n = _count(n_per_class, "spiral: n_per_class")
    c = _count(n_classes, "spiral: n_classes")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise TypeError(f"spiral: noise must be a real number, got {type(noise).__name__}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"spiral: noise must be finite and >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    rate = np.arange(n, dtype=np.float64) / n
    radius = np.tile(rate, c)
    cls = np.repeat(np.arange(c, dtype=np.int64), n)
    theta = cls * 4.0 + 4.0 * radius + rng.standard_normal(n * c) * float(noise)
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)
    t = cls
    if shuffle:
        order = rng.permutation(n * c)
        x, t = x[order], t[order]
    return x, t


def get_spiral(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The book's name for the spiral set: ``spiral(train=train)``.

    Parameters
    ----------
    train : bool
        Training set (seed 1984) or test set (seed 2020).

    Returns
    -------
    x : ndarray of float64, shape (300, 2)
    t : ndarray of int64, shape (300,)

    Examples
    --------
    >>> x, t = get_spiral(train=False)
    >>> x.shape, t.shape
    ((300, 2), (300,))
    """
    return spiral(train=train)


def _unpack(x: Any, t: Any, batch_size: Any, shuffle: Any = True) -> tuple[Any, ...]:
    """``(x, t, batch_size, shuffle)`` with a data set object (``.data`` and ``.label``,
    as ``Spiral`` and the book's data sets) standing for its two arrays.

    After a data set the positional arguments are the book's ``(dataset, batch_size,
    shuffle)``: an int in ``t``'s place is the batch size, and a bool in
    ``batch_size``'s place is ``shuffle``.
    """
    if isinstance(x, np.ndarray) or not (hasattr(x, "data") and hasattr(x, "label")):
        return x, t, batch_size, shuffle
    if isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_)):
        if isinstance(batch_size, (bool, np.bool_)):
            shuffle = batch_size
        t, batch_size = None, t
    if t is not None:
        raise TypeError("a data set object brings its own targets (.label): pass t only "
                        "with an array x")
    return x.data, x.label, batch_size, shuffle


class Spiral:
    """The spiral set as a data set object (the book's ``dezero.datasets.Spiral``).

    Indexing gives ``(x[i], t[i])`` after the optional transforms; ``len`` is
    the number of samples; ``.data`` and ``.label`` are the arrays, so
    ``DataLoader(ds.data, ds.label, batch_size=30)`` iterates it in batches.

    Parameters
    ----------
    train : bool
        Training set (seed 1984) or test set (seed 2020), as :func:`get_spiral`.
    transform, target_transform : callable, optional
        Applied to each ``x[i]`` / ``t[i]`` when indexed.

    Examples
    --------
    >>> ds = Spiral(train=True)
    >>> len(ds), ds[0][0].shape, int(ds[0][1]) in (0, 1, 2)
    (300, (2,), True)
    """

    def __init__(self, train: bool = True, transform: Any = None,
                 target_transform: Any = None) -> None:
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.label = spiral(train=self.train)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Spiral: index must be an int, got {type(index).__name__}")
        x, t = self.data[index], self.label[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            t = self.target_transform(t)
        return x, t

    def __len__(self) -> int:
        return len(self.data)


class DataLoader:
    """Minibatches of ``(x, t)``, reshuffled every epoch; an iterator with ``len``.

    Iterating runs one epoch: every sample appears exactly once (the last batch
    may be smaller unless ``drop_last``).  Each new epoch draws a fresh
    permutation from a Generator seeded with ``seed``, so two loaders with the
    same seed yield the same batches in the same order.

    Parameters
    ----------
    x : array_like or data set
        Inputs; the first axis indexes samples. A data set object with ``.data`` and
        ``.label`` (``Spiral(...)``) stands for both arrays, and is followed by the
        book's positional ``(batch_size, shuffle)``: ``DataLoader(train_set, 30)``.
    t : array_like, optional
        Targets with the same number of samples (None: batches of ``x`` only).
    batch_size : int
        Samples per batch (>= 1).
    shuffle : bool
        If False, batches come in order.
    seed : int, numpy Generator or None
        Source of the per-epoch permutations (None: fresh OS entropy).
    drop_last : bool
        Drop the final incomplete batch.

    Examples
    --------
    >>> import numpy as np
    >>> loader = DataLoader(np.arange(5.0), np.arange(5), batch_size=2, shuffle=False)
    >>> len(loader)
    3
    >>> [tb.tolist() for _, tb in loader]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, x: Any, t: Any = None, batch_size: int = 32, shuffle: bool = True,
                 seed: int | np.random.Generator | None = None, drop_last: bool = False) -> None:
        x, t, batch_size, shuffle = _unpack(x, t, batch_size, shuffle)
        self.x = np.asarray(x)
        if self.x.ndim == 0:
            raise ValueError("DataLoader: x must have a sample axis, got a 0-d value")
        self.t = None if t is None else np.asarray(t)
        if self.t is not None and (self.t.ndim == 0 or len(self.t) != len(self.x)):
            raise ValueError(f"DataLoader: x has {len(self.x)} samples but t has "
                             f"{'none' if self.t.ndim == 0 else len(self.t)}")
        self.batch_size = _count(batch_size, "DataLoader: batch_size")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.epoch = 0
        self._order: np.ndarray | None = None
        self._pos = 0

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return len(self.x)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n, b = self.n_samples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def reset(self) -> None:
        """Abandon the current epoch; the next batch starts a new one.

        Examples
        --------
        >>> import numpy as np
        >>> loader = DataLoader(np.arange(4.0), batch_size=2, shuffle=False)
        >>> loader.next()
        array([0., 1.])
        >>> loader.reset()
        >>> loader.next()
        array([0., 1.])
        """
        self._order = None
        self._pos = 0

    def __iter__(self) -> DataLoader:
        self.reset()
        return self

    def __next__(self) -> Any:
        if self._order is None:
            n = self.n_samples
            self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
            self._pos = 0
        start = self._pos
        stop = min(start + self.batch_size, self.n_samples)
        if start >= stop or (self.drop_last and stop - start < self.batch_size):
            self._order = None
            self.epoch += 1
            raise StopIteration
        self._pos = stop
        idx = self._order[start:stop]
        if self.t is None:
            return self.x[idx]
        return self.x[idx], self.t[idx]

    def next(self) -> Any:
        """The next batch, as ``next(loader)`` gives it (the book's DataLoader method).

        Returns
        -------
        numpy.ndarray or tuple of numpy.ndarray
            ``x[idx]``, or ``(x[idx], t[idx])`` when the loader has targets.

        Raises
        ------
        StopIteration
            At the end of the epoch; the following call starts the next epoch.

        Examples
        --------
        >>> import numpy as np
        >>> loader = DataLoader(np.arange(3.0), np.array([0, 1, 0]), batch_size=2,
        ...                     shuffle=False)
        >>> loader.next()
        (array([0., 1.]), array([0, 1]))
        >>> loader.next()
        (array([2.]), array([0]))
        """
        return self.__next__()


class SinCurve:
    """A noisy sine wave for next-value prediction (the book's ``dezero.datasets.SinCurve``).

    ``data[i]`` is the curve at step i and ``label[i]`` at step i + 1, both of shape
    ``(1,)``. The training curve is ``sin`` plus uniform noise in ``[-noise, noise]``;
    the test curve is ``cos`` without noise (as in the book).

    Parameters
    ----------
    train : bool
        Training curve (noisy sine) or test curve (cosine).
    n : int
        Points on ``[0, 2 pi]`` (``n - 1`` samples).
    noise : float
        Half-width of the training noise.
    seed : int or numpy Generator, optional
        Source of the noise; numpy's global random state by default (so
        ``np.random.seed`` applies, as in the book).

    Examples
    --------
    >>> ds = SinCurve(seed=0)
    >>> len(ds), ds.data.shape, ds.label.shape
    (999, (999, 1), (999, 1))
    >>> bool(ds.data[1, 0] == ds.label[0, 0])
    True
    """

    def __init__(self, train: bool = True, n: int = 1000, noise: float = 0.05,
                 seed: int | np.random.Generator | None = None) -> None:
        self.train = bool(train)
        n = _count(n, "SinCurve: n")
        if n < 2:
            raise ValueError(f"SinCurve: n must be >= 2 (one sample needs two points), got {n}")
        if not noise >= 0:
            raise ValueError(f"SinCurve: noise must be >= 0, got {noise!r}")
        t = np.linspace(0.0, 2 * np.pi, n)
        if self.train:
            rng = np.random if seed is None else (
                seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed))
            y = np.sin(t) + rng.uniform(-noise, noise, size=n)
        else:
            y = np.cos(t)
        self.data = y[:-1, None]
        self.label = y[1:, None]

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        return self.data[index], self.label[index]

    def __len__(self) -> int:
        return len(self.data)


class SeqDataLoader:
    """Minibatches for truncated backprop through time (the book's ``SeqDataLoader``).

    The series is cut into ``batch_size`` equal stretches read in parallel: batch k
    holds samples ``(offset_j + k) % n`` for the stretch offsets ``offset_j = j * (n //
    batch_size)``, so consecutive batches continue each stretch. One epoch is
    ``n // batch_size`` batches.

    Parameters
    ----------
    x : array_like or data set
        Inputs; the first axis is time. A data set object with ``.data`` and ``.label``
        (``SinCurve(...)``) stands for both arrays, and is followed by the book's
        positional ``batch_size``: ``SeqDataLoader(train_set, 30)``.
    t : array_like
        Targets, one per input.
    batch_size : int
        Number of parallel stretches (1 reads the series in order).

    Examples
    --------
    >>> import numpy as np
    >>> loader = SeqDataLoader(np.arange(6.0), np.arange(6), batch_size=2)
    >>> [tb.tolist() for _, tb in loader]
    [[0, 3], [1, 4], [2, 5]]
    """

    def __init__(self, x: Any, t: Any = None, batch_size: int = 1) -> None:
        x, t, batch_size, _ = _unpack(x, t, batch_size)
        if t is None:
            raise TypeError("SeqDataLoader: give the targets t, or a data set with .data "
                            "and .label")
        self.x, self.t = np.asarray(x), np.asarray(t)
        if self.x.ndim == 0 or self.t.ndim == 0 or len(self.x) != len(self.t):
            raise ValueError(f"SeqDataLoader: x and t must have the same number of samples, "
                             f"got shapes {self.x.shape} and {self.t.shape}")
        self.batch_size = _count(batch_size, "SeqDataLoader: batch_size")
        if self.batch_size > len(self.x):
            raise ValueError(f"SeqDataLoader: batch_size {self.batch_size} exceeds the "
                             f"{len(self.x)} samples")
        self._k = 0

    def __len__(self) -> int:
        """Number of batches per epoch."""
        return len(self.x) // self.batch_size

    def __iter__(self) -> SeqDataLoader:
        self._k = 0
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        if self._k >= len(self):
            raise StopIteration
        n = len(self.x)
        idx = (np.arange(self.batch_size) * (n // self.batch_size) + self._k) % n
        self._k += 1
        return self.x[idx], self.t[idx]
