"""Neural-network layers: ``Layer``, ``Linear``, ``MLP``, ``Conv2d``, ``Deconv2d``,
``BatchNorm``, ``RNN``, ``LSTM``, with saved weights.

A :class:`Layer` keeps track of the :class:`~reverse.core.Parameter` objects and
the sub-layers assigned to its attributes (also inside lists and tuples of
them), so ``layer.params()`` yields every trainable parameter of a model,
``layer.cleargrads()`` resets their gradients, and
``layer.save_weights(path)`` / ``layer.load_weights(path)`` store and restore
them as a ``.npz`` archive keyed by attribute path (``"layers.0.W"``).

Saved state
-----------
* A save is atomic: the archive is written to a temporary file in the target's
  directory, flushed and ``fsync``-ed, then moved onto the real name with
  ``os.replace``.  An interrupted save leaves the previous file intact and no
  temporary file behind.
* A load validates the whole file first (readable archive, checksums, the same
  set of names, shapes and dtypes) and assigns only if everything matches, so
  a bad file raises :class:`WeightsFileError` (a ``ValueError``) naming the
  file and the problem, and leaves the current weights untouched.  A missing
  file raises ``FileNotFoundError``.
* Values round-trip bit for bit (dtype included); archives are read with
  ``allow_pickle=False``.

Examples
--------
>>> import numpy as np
>>> import reverse.functions as F
>>> model = MLP((10, 3), activation=F.sigmoid, seed=0)
>>> y = model(np.zeros((5, 2)))
>>> y.shape
(5, 3)
>>> [name for name, _ in model.named_params()]
['layers.0.W', 'layers.0.b', 'layers.1.W', 'layers.1.b']
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import functions as F
from .core import Parameter, Variable

__all__ = ["MLP", "Layer", "Linear", "Model", "WeightsFileError", "Conv2d", "Deconv2d",
           "BatchNorm", "RNN", "LSTM", "Sequential"]

#: ``np.savez`` keyword names a parameter path cannot take.
_RESERVED = frozenset({"file", "allow_pickle", "args", "kwds"})


class WeightsFileError(ValueError):
    """A weights file cannot be used: unreadable, corrupted or not matching the layer.

    Examples
    --------
    >>> issubclass(WeightsFileError, ValueError)
    True
    """


def _is_member(value: Any) -> bool:
    """Whether an attribute value is tracked: a Parameter, a Layer or a list/tuple of them."""
    if isinstance(value, (Parameter, Layer)):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, (Parameter, Layer)) for v in value)
    return False


class Layer:
    """Base class of models: tracks Parameters and sub-Layers set as attributes.

    Subclasses define ``forward(*inputs)``; calling the layer calls it.
    Attributes holding a :class:`~reverse.core.Parameter`, a ``Layer``, or a list
    or tuple of them are registered in assignment order; their names make the
    parameter paths used by :meth:`named_params` and the weight files.  (A list
    is read when the parameters are enumerated, so appending to it later
    counts too.)

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Parameter
    >>> class Scale(Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.array(2.0), name="w")
    ...     def forward(self, x):
    ...         return self.w * x
    >>> layer = Scale()
    >>> layer(3.0)
    variable(6.)
    >>> [name for name, _ in layer.named_params()]
    ['w']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_member_names", [])

    def _members(self) -> list[str]:
        try:
            return object.__getattribute__(self, "_member_names")
        except AttributeError:  # a subclass forgot super().__init__()
            names: list[str] = []
            object.__setattr__(self, "_member_names", names)
            return names

    def __setattr__(self, name: str, value: Any) -> None:
        members = self._members()
        if _is_member(value):
            if name not in members:
                members.append(name)
        elif name in members:
            members.remove(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        members = self._members()
        if name in members:
            members.remove(name)
        object.__delattr__(self, name)

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def forward(self, *inputs: Any) -> Any:
        """Compute the layer's output; subclasses override this.

        Calling the layer (``layer(x)``) calls ``forward(x)``.

        Parameters
        ----------
        *inputs : Variable or array_like
            Whatever the subclass takes (``Linear`` and ``MLP`` take one batch).

        Returns
        -------
        Variable
            The output, recorded in the graph.

        Examples
        --------
        >>> import numpy as np
        >>> class Affine(Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.a = Parameter(np.array(2.0), name="a")
        ...     def forward(self, x):
        ...         return self.a * x + 1
        >>> m = Affine()
        >>> y = m(np.array([1.0, 3.0]))
        >>> y.sum().backward()
        >>> y, m.a.grad
        (variable([3. 7.]), variable(4.))
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # -- enumeration -------------------------------------------------------------
    def named_params(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(path, parameter)`` pairs, each parameter once, in registration order.

        Paths join attribute names and list indices with dots (``"layers.0.W"``).
        A parameter shared by two places is yielded under its first path only.

        Parameters
        ----------
        prefix : str
            Prepended (with a dot) to every path.

        Yields
        ------
        tuple of (str, Parameter)
            The path and the parameter.

        Examples
        --------
        >>> [name for name, _ in Linear(2, in_size=3, seed=0).named_params()]
        ['W', 'b']
        """
        seen: set[int] = set()
        # Iterative depth-first walk (no recursion for deeply nested models).
        stack: list[tuple[str, Any]] = [(prefix, self)]
        while stack:
            path, obj = stack.pop()
            if isinstance(obj, Parameter):
                if id(obj) not in seen:
                    seen.add(id(obj))
                    yield path, obj
                continue
            children: list[tuple[str, Any]] = []
            if isinstance(obj, Layer):
                if id(obj) in seen:  # a layer shared (or contained in itself)
                    continue
                seen.add(id(obj))
                for name in obj._members():
                    children.append((f"{path}.{name}" if path else name, getattr(obj, name)))
            else:  # list or tuple
                for i, item in enumerate(obj):
                    if isinstance(item, (Parameter, Layer)):
                        children.append((f"{path}.{i}", item))
            stack.extend(reversed(children))

    def params(self) -> Iterator[Parameter]:
        """Yield every Parameter of this layer and its sub-layers, each once.

        Yields
        ------
        Parameter
            In registration order (as :meth:`named_params`).

        Examples
        --------
        >>> sum(p.data.size for p in Linear(2, in_size=3, seed=0).params())
        8
        """
        for _, p in self.named_params():
            yield p

    def cleargrads(self) -> None:
        """Reset the gradient of every parameter to None.

        Examples
        --------
        >>> import numpy as np
        >>> layer = Linear(1, in_size=2, seed=0)
        >>> layer(np.ones((1, 2))).sum().backward()
        >>> layer.cleargrads()
        >>> layer.W.grad is None
        True
        """
        for p in self.params():
            p.clear_grad()

    clear_grads = cleargrads

    # -- saved state ---------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays keyed by path.

        Returns
        -------
        dict of str to numpy.ndarray
            Path (as :meth:`named_params` gives it) to a copy of the data.

        Raises
        ------
        ValueError
            If a parameter is not initialised yet (lazy ``Linear`` before its
            first call).

        Examples
        --------
        >>> sorted(Linear(2, in_size=3, seed=0).state_dict())
        ['W', 'b']
        """
        out: dict[str, np.ndarray] = {}
        for name, p in self.named_params():
            if p.data is None:
                raise ValueError(
                    f"parameter {name!r} of {type(self).__name__} is not initialised yet "
                    "(call the layer on an input first, or give Linear its in_size)"
                )
            if not isinstance(p.data, np.ndarray):
                raise TypeError(f"parameter {name!r} holds {type(p.data).__name__}, "
                                "not an ndarray; only array weights can be saved")
            out[name] = np.array(p.data, copy=True)
        return out

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Save the parameters to the ``.npz`` file ``path``, atomically.

        The archive is written to a temporary file in the same directory,
        flushed and fsync-ed, then renamed onto ``path`` (``os.replace``), so a
        crash never leaves a partial file under ``path``.  ``path`` is used as
        given (no ``.npz`` suffix is appended).

        Parameters
        ----------
        path : str or os.PathLike
            Where to write; an existing file is replaced.

        Raises
        ------
        ValueError
            If a parameter is not initialised yet, or a path clashes with
            ``np.savez``'s own argument names.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> layer = Linear(2, in_size=3, seed=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "w.npz")
        ...     layer.save_weights(path)
        ...     other = Linear(2, in_size=3, seed=1)
        ...     other.load_weights(path)
        >>> bool(np.array_equal(layer.W.data, other.W.data))
        True
        """
        arrays = self.state_dict()
        clash = _RESERVED.intersection(arrays)
        if clash:
            raise ValueError(f"save_weights: parameter path(s) {sorted(clash)} clash with "
                             "np.savez's own arguments; rename the attribute(s)")
        _atomic_savez(os.fspath(path), arrays)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load parameters saved by :meth:`save_weights`, validating before assigning.

        Parameters
        ----------
        path : str or os.PathLike
            An ``.npz`` file written by :meth:`save_weights` for a layer of the
            same structure (lazily initialised parameters take the file's shape).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        WeightsFileError
            (a ``ValueError``) if the file is truncated or corrupted, is not an
            ``.npz`` archive, or its names, shapes or dtypes do not match this
            layer.  The current weights are then left untouched.

        Examples
        --------
        >>> Linear(2, in_size=3).load_weights("/nonexistent/w.npz")
        Traceback (most recent call last):
        ...
        FileNotFoundError: [Errno 2] load_weights: no such file: '/nonexistent/w.npz'
        """
        path = os.fspath(path)
        arrays = _read_npz(path)
        named = list(self.named_params())
        expected = {name for name, _ in named}
        missing = sorted(expected - set(arrays))
        extra = sorted(set(arrays) - expected)
        problems = []
        if missing:
            problems.append(f"missing parameter(s) {missing}")
        if extra:
            problems.append(f"unexpected parameter(s) {extra}")
        for name, p in named:
            arr = arrays.get(name)
            if arr is None:
                continue
            if p.data is None:  # lazily initialised layer: the file defines the array
                if arr.dtype.kind != "f":
                    problems.append(f"{name!r} has dtype {arr.dtype}, expected a float dtype")
                continue
            if arr.shape != p.data.shape:
                problems.append(f"{name!r} has shape {arr.shape}, expected {p.data.shape}")
            if arr.dtype != p.data.dtype:
                problems.append(f"{name!r} has dtype {arr.dtype}, expected {p.data.dtype}")
        if problems:
            raise WeightsFileError(f"load_weights({path!r}): the file does not match "
                                   f"{type(self).__name__}: " + "; ".join(problems)
                                   + " (weights left unchanged)")
        # Everything checked: assign (nothing below can fail half way).
        for name, p in named:
            p.data = arrays[name]

    def plot(self, *inputs: Any, to_file: str = "model.png", verbose: bool = True) -> str:
        """Draw the graph of ``self(*inputs)`` with Graphviz (the book's ``Model.plot``).

        Parameters
        ----------
        *inputs : Variable or array_like
            What the layer is called with.
        to_file : str
            Image path; its extension selects the format (the ``.dot`` text is written
            beside it even without Graphviz).
        verbose : bool
            Add shapes and dtypes to the variable labels.

        Returns
        -------
        str
            The path of the image.

        Raises
        ------
        GraphvizNotFoundError
            If the ``dot`` program is not installed.

        Examples
        --------
        >>> import numpy as np, os, tempfile
        >>> from reverse import GraphvizNotFoundError
        >>> path = os.path.join(tempfile.mkdtemp(), "mlp.png")
        >>> try:
        ...     _ = MLP((3, 1), seed=0).plot(np.ones((2, 4)), to_file=path)
        ... except GraphvizNotFoundError:
        ...     pass
        >>> os.path.exists(path[:-4] + ".dot")
        True
        """
        from .graph import plot_dot_graph

        return plot_dot_graph(self(*inputs), to_file=to_file, verbose=verbose)


#: DeZero's name for a top-level layer.
Model = Layer


class Sequential(Layer):
    """Layers (or functions) applied one after another (DeZero's ``Sequential``).

    Parameters
    ----------
    *layers : Layer or callable
        Applied in order; layers among them are registered, so their parameters
        are the model's.

    Examples
    --------
    >>> import numpy as np
    >>> import reverse.functions as F
    >>> model = Sequential(Linear(4, seed=0), F.relu, Linear(1, seed=1))
    >>> model(np.ones((2, 3))).shape
    (2, 1)
    >>> len(list(model.params()))
    4
    """

    layers: list[Any]

    def __init__(self, *layers: Any) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"Sequential: each item must be a layer or a function, "
                                f"got {type(layer).__name__}")
            if isinstance(layer, Layer):
                setattr(self, f"l{i}", layer)  # tracked (DeZero's names l0, l1, ...)
        # the whole sequence, functions included, untracked (the layers are, as l<i>)
        object.__setattr__(self, "layers", list(layers))

    def forward(self, x: Any) -> Any:
        """Apply every layer in turn.

        Parameters
        ----------
        x : Variable or array_like
            The input of the first layer.

        Returns
        -------
        Variable
            The output of the last one.

        Examples
        --------
        >>> import numpy as np
        >>> Sequential(Linear(2, seed=0))(np.ones((1, 3))).shape
        (1, 2)
        """
        for layer in self.layers:
            x = layer(x)
        return x


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_dir(directory: str) -> None:
    """Make a rename durable (POSIX); silently skipped where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_savez(path: str, arrays: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """Read every array of an npz archive (checking CRCs) or raise a clear error."""
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"load_weights: no such file: {path!r}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            if head != b"PK\x03\x04":
                raise WeightsFileError(
                    f"load_weights({path!r}): not an .npz archive (bad magic bytes {head!r}); "
                    "the file is truncated, corrupted or of another format"
                )
            with np.load(fh, allow_pickle=False) as npz:
                # Reading each member to the end makes zipfile verify its CRC-32.
                return {name: npz[name] for name in npz.files}
    except WeightsFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, SyntaxError,
            OverflowError, MemoryError, TypeError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise WeightsFileError(
            f"load_weights({path!r}): cannot read the weights file, it is truncated or "
            f"corrupted ({type(exc).__name__}: {exc}); weights left unchanged"
        ) from exc
    except Exception as exc:  # zlib.error and friends: still a damaged file
        raise WeightsFileError(
            f"load_weights({path!r}): cannot read the weights file "
            f"({type(exc).__name__}: {exc}); weights left unchanged"
        ) from exc


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------

_INITS = ("xavier", "he", "lecun")


def _make_rng(rng: Any, seed: Any, who: str) -> Any:
    """A source of normal draws: a Generator, or numpy's global state by default.

    With neither ``rng`` nor ``seed``, weights come from ``np.random`` (the legacy
    global RandomState), so ``np.random.seed(n)`` makes them reproducible, as in
    the book's DeZero.
    """
    if rng is not None and seed is not None:
        raise TypeError(f"{who}: give rng or seed, not both")
    src = rng if rng is not None else seed
    if src is None or src is np.random:
        return np.random
    if isinstance(src, (np.random.Generator, np.random.RandomState)):
        return src
    if isinstance(src, (int, np.integer)) and not isinstance(src, bool):
        return np.random.default_rng(src)
    raise TypeError(f"{who}: rng/seed must be a numpy Generator or RandomState, an int or "
                    f"None, got {type(src).__name__}")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


class Linear(Layer):
    """Fully connected layer ``y = x @ W + b`` with ``W`` of shape (in_size, out_size).

    Parameters
    ----------
    out_size : int
        Number of output features.
    in_size : int, optional
        Number of input features; if None, taken from the last axis of the
        first input (lazy initialisation).
    nobias : bool
        Leave out ``b``.
    dtype : numpy dtype
        Floating dtype of ``W`` and ``b`` (default float64).
    rng, seed : numpy Generator or int, optional
        Source of the initial weights (one of the two).  With neither, ``W`` is
        drawn from numpy's global random state when it is initialised, so
        ``np.random.seed(0)`` before building the model makes it reproducible
        (as in the book's DeZero).
    init : {"xavier", "he", "lecun"}
        ``W`` ~ normal with standard deviation ``sqrt(2 / (in + out))`` (Glorot &
        Bengio, default), ``sqrt(2 / in)`` (He et al., for ReLU) or
        ``sqrt(1 / in)`` (LeCun; DeZero's choice).  ``b`` starts at zero.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Linear(3, seed=0)
    >>> layer.W.data is None
    True
    >>> y = layer(np.ones((4, 2)))
    >>> layer.W.shape, y.shape
    ((2, 3), (4, 3))
    """

    def __init__(self, out_size: int, in_size: int | None = None, nobias: bool = False,
                 dtype: Any = np.float64, rng: np.random.Generator | int | None = None,
                 seed: int | None = None, init: str = "xavier") -> None:
        super().__init__()
        self.out_size = _positive_int(out_size, "Linear: out_size")
        self.in_size = None if in_size is None else _positive_int(in_size, "Linear: in_size")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be a floating dtype, got {self.dtype}")
        if not isinstance(init, str) or init not in _INITS:
            raise ValueError(f"Linear: init must be one of {_INITS}, got {init!r}")
        self.init = init
        self._rng = _make_rng(rng, seed, "Linear")
        self.W = Parameter(None, name="W")
        if self.in_size is not None:
            self._init_W(self.in_size)
        self.b = None if nobias else Parameter(np.zeros(self.out_size, dtype=self.dtype),
                                               name="b")

    def _init_W(self, in_size: int) -> None:
        out = self.out_size
        scale = {"xavier": np.sqrt(2.0 / (in_size + out)),
                 "he": np.sqrt(2.0 / in_size),
                 "lecun": np.sqrt(1.0 / in_size)}[self.init]
        w = self._rng.standard_normal((in_size, out)) * scale
        self.W.data = w.astype(self.dtype, copy=False)
        self.in_size = in_size

    def forward(self, x: Any) -> Variable:
        """Return ``x @ W + b``, initialising ``W`` from ``x``'s last axis if needed.

        Parameters
        ----------
        x : Variable or array_like
            Input of shape ``(..., in_size)`` (at least one axis).

        Returns
        -------
        Variable
            Shape ``(..., out_size)``.

        Raises
        ------
        ValueError
            If ``x`` has no axis, or its last axis does not match ``in_size``.

        Examples
        --------
        >>> import numpy as np
        >>> layer = Linear(2, in_size=3, seed=0)
        >>> x = np.array([[1.0, 2.0, 3.0]])
        >>> y = layer(x)
        >>> bool(np.allclose(y.data, x @ layer.W.data + layer.b.data))
        True
        >>> y.sum().backward()
        >>> layer.b.grad
        variable([1. 1.])
        """
        shape = x.shape if isinstance(x, Variable) else np.shape(x)
        if len(shape) == 0:
            raise ValueError("Linear: the input must have at least one axis (features)")
        if self.W.data is None:
            self._init_W(_positive_int(shape[-1], "Linear: input feature count"))
        elif shape[-1] != self.W.data.shape[0]:
            raise ValueError(f"Linear: input has {shape[-1]} features (shape {tuple(shape)}), "
                             f"the layer expects {self.W.data.shape[0]}")
        return F.linear(x, self.W, self.b)


_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "sigmoid": F.sigmoid,
    "relu": F.relu,
    "tanh": F.tanh,  # type: ignore[attr-defined]  # generated
}


class MLP(Layer):
    """Multi-layer perceptron: ``Linear`` layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Output size of each ``Linear`` layer; the last is the network's output
        (no activation after it).  The input size is taken from the first call.
    activation : callable or {"sigmoid", "relu", "tanh"}
        Applied after every layer but the last (default ``sigmoid``).
    rng, seed : numpy Generator or int, optional
        One generator initialises all layers (reproducible with a seed); with
        neither, numpy's global random state (``np.random.seed`` applies).
    init : str, optional
        Weight initialisation of the layers; default ``"he"`` for ReLU and
        ``"xavier"`` otherwise.
    dtype : numpy dtype
        Floating dtype of every weight (default float64).

    Examples
    --------
    >>> import numpy as np
    >>> model = MLP((8, 8, 2), activation="relu", seed=0)
    >>> model(np.ones((3, 4))).shape
    (3, 2)
    >>> len(list(model.params()))
    6
    """

    def __init__(self, sizes: Any, activation: Callable[[Any], Any] | str = F.sigmoid,
                 rng: np.random.Generator | int | None = None, seed: int | None = None,
                 init: str | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        sizes = [_positive_int(s, "MLP: each size") for s in sizes]
        if not sizes:
            raise ValueError("MLP: sizes must name at least one layer")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"MLP: activation must be a callable or one of "
                                 f"{sorted(_ACTIVATIONS)}, got {activation!r}")
            act_name = activation
            activation = _ACTIVATIONS[activation]
        elif callable(activation):
            act_name = getattr(activation, "__name__", "")
        else:
            raise TypeError(f"MLP: activation must be callable, got {type(activation).__name__}")
        if init is None:
            init = "he" if act_name == "relu" else "xavier"
        gen = _make_rng(rng, seed, "MLP")
        self.activation = activation
        self.layers = [Linear(s, rng=gen, init=init, dtype=dtype) for s in sizes]

    def forward(self, x: Any) -> Variable:
        """Apply the layers with the activation between them.

        Parameters
        ----------
        x : Variable or array_like
            Input batch of shape ``(..., features)``.

        Returns
        -------
        Variable
            Output of the last ``Linear`` layer (no activation after it).

        Examples
        --------
        >>> import numpy as np
        >>> model = MLP((4, 1), activation="tanh", seed=0)
        >>> x = np.ones((2, 3))
        >>> hidden, last = model.layers
        >>> y = model(x)
        >>> ref = np.tanh(x @ hidden.W.data + hidden.b.data) @ last.W.data + last.b.data
        >>> bool(np.allclose(y.data, ref))
        True
        """
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


class _ConvBase(Layer):
    """Shared set-up of ``Conv2d`` and ``Deconv2d``: sizes, lazy ``W``, bias."""

    _who = "Conv2d"

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0,
                 nobias: bool = False, dtype: Any = np.float64, in_channels: int | None = None,
                 rng: np.random.Generator | int | None = None, seed: int | None = None) -> None:
        super().__init__()
        from .rules.conv import _pair

        who = self._who
        self.out_channels = _positive_int(out_channels, f"{who}: out_channels")
        self.kernel_size = _pair(kernel_size, f"{who}: kernel_size", 1)
        self.stride = _pair(stride, f"{who}: stride", 1)
        self.pad = _pair(pad, f"{who}: pad", 0)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"{who}: dtype must be a floating dtype, got {self.dtype}")
        self._rng = _make_rng(rng, seed, who)
        self.in_channels: int | None = None
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W(_positive_int(in_channels, f"{who}: in_channels"))
        self.b = None if nobias else Parameter(np.zeros(self.out_channels, dtype=self.dtype),
                                               name="b")

    def _w_shape(self, c: int) -> tuple[int, ...]:
        return (self.out_channels, c, *self.kernel_size)

    def _init_W(self, c: int) -> None:
        # LeCun's scale sqrt(1 / fan_in) with fan_in = C * KH * KW, as DeZero does
        scale = np.sqrt(1.0 / (c * self.kernel_size[0] * self.kernel_size[1]))
        w = self._rng.standard_normal(self._w_shape(c)) * scale
        self.W.data = w.astype(self.dtype, copy=False)
        self.in_channels = c

    def _checked(self, x: Any) -> Any:
        shape = x.shape if isinstance(x, Variable) else np.shape(x)
        if len(shape) != 4:
            raise ValueError(f"{self._who}: input must be (N, C, H, W), got shape "
                             f"{tuple(shape)}")
        if self.W.data is None:
            self._init_W(_positive_int(shape[1], f"{self._who}: input channels"))
        elif shape[1] != self.in_channels:
            raise ValueError(f"{self._who}: input has {shape[1]} channels, the layer "
                             f"expects {self.in_channels}")
        return x


class Conv2d(_ConvBase):
    """2-d convolution layer: ``F.conv2d(x, W, b, stride, pad)`` with ``W`` of shape
    ``(out_channels, in_channels, KH, KW)``.

    Parameters
    ----------
    out_channels : int
        Number of filters.
    kernel_size, stride, pad : int or (int, int)
        As for ``reverse.functions.conv2d``.
    nobias : bool
        Leave out ``b``.
    dtype : numpy dtype
        Floating dtype of the weights (default float64).
    in_channels : int, optional
        Taken from the first input if None (lazy initialisation).
    rng, seed : numpy Generator or int, optional
        Source of ``W`` (normal, standard deviation ``sqrt(1 / (C KH KW))``, the
        book's); numpy's global random state by default.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Conv2d(4, 3, pad=1, seed=0)
    >>> layer(np.ones((2, 3, 5, 5))).shape
    (2, 4, 5, 5)
    >>> layer.W.shape
    (4, 3, 3, 3)
    """

    _who = "Conv2d"

    def forward(self, x: Any) -> Variable:
        """Return ``conv2d(x, W, b)``, initialising ``W`` from ``x``'s channels if needed.

        Parameters
        ----------
        x : Variable or array_like
            Images ``(N, C, H, W)``.

        Returns
        -------
        Variable
            ``(N, out_channels, OH, OW)``.

        Examples
        --------
        >>> import numpy as np
        >>> Conv2d(1, 2, nobias=True, seed=0)(np.ones((1, 1, 3, 3))).shape
        (1, 1, 2, 2)
        """
        return F.conv2d(self._checked(x), self.W, self.b, self.stride, self.pad)


class Deconv2d(_ConvBase):
    """Transposed 2-d convolution layer: ``F.deconv2d`` with ``W`` of shape
    ``(in_channels, out_channels, KH, KW)``.

    Parameters
    ----------
    out_channels : int
        Number of output channels.
    kernel_size, stride, pad : int or (int, int)
        As for ``reverse.functions.deconv2d``.
    nobias : bool
        Leave out ``b``.
    dtype : numpy dtype
        Floating dtype of the weights (default float64).
    in_channels : int, optional
        Taken from the first input if None (lazy initialisation).
    rng, seed : numpy Generator or int, optional
        Source of ``W`` (as for :class:`Conv2d`).

    Examples
    --------
    >>> import numpy as np
    >>> Deconv2d(2, 3, stride=2, pad=1, seed=0)(np.ones((1, 4, 3, 3))).shape
    (1, 2, 5, 5)
    """

    _who = "Deconv2d"

    def _w_shape(self, c: int) -> tuple[int, ...]:
        return (c, self.out_channels, *self.kernel_size)

    def forward(self, x: Any) -> Variable:
        """Return ``deconv2d(x, W, b)``, initialising ``W`` from ``x``'s channels if needed.

        Parameters
        ----------
        x : Variable or array_like
            Images ``(N, C, H, W)``.

        Returns
        -------
        Variable
            ``(N, out_channels, OH, OW)``.

        Examples
        --------
        >>> import numpy as np
        >>> Deconv2d(1, 2, seed=0)(np.ones((1, 1, 2, 2))).shape
        (1, 1, 3, 3)
        """
        return F.deconv2d(self._checked(x), self.W, self.b, self.stride, self.pad)


class BatchNorm(Layer):
    """Batch normalisation layer (``F.batch_norm``) with running statistics.

    ``gamma`` (ones), ``beta`` (zeros) and the running ``avg_mean`` (zeros) and
    ``avg_var`` (ones) are created at the first call with the input's channel count
    and dtype. ``avg_mean``/``avg_var`` are Parameters, so they are saved with the
    weights; they never get a gradient, so optimizers leave them alone.

    Parameters
    ----------
    decay : float
        Weight of the old running statistics (default 0.9).
    eps : float
        Added to the variance (default 2e-5).

    Examples
    --------
    >>> import numpy as np
    >>> bn = BatchNorm()
    >>> y = bn(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> np.round(y.data, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.avg_mean.data
    array([0.2, 2. ])
    """

    def __init__(self, decay: float = 0.9, eps: float = 2e-5) -> None:
        super().__init__()
        self.decay = float(decay)
        self.eps = float(eps)
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def forward(self, x: Any) -> Variable:
        """Normalise ``x`` (``(N, C)`` or ``(N, C, H, W)``) over all but the channel axis.

        Parameters
        ----------
        x : Variable or array_like
            ``(N, C)`` or ``(N, C, H, W)``.

        Returns
        -------
        Variable
            The normalised batch, shaped as ``x``.

        Raises
        ------
        ValueError
            If ``x`` has another number of axes.

        Examples
        --------
        >>> import numpy as np
        >>> BatchNorm()(np.ones((2, 3, 4, 4))).shape
        (2, 3, 4, 4)
        """
        shape = x.shape if isinstance(x, Variable) else np.shape(x)
        if len(shape) not in (2, 4):
            raise ValueError(f"BatchNorm: input must be (N, C) or (N, C, H, W), got shape "
                             f"{tuple(shape)}")
        if self.avg_mean.data is None:
            c = shape[1]
            dtype = np.dtype(getattr(x, "dtype", np.float64))
            dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
            self.avg_mean.data = np.zeros(c, dtype=dtype)
            self.avg_var.data = np.ones(c, dtype=dtype)
            self.gamma.data = np.ones(c, dtype=dtype)
            self.beta.data = np.zeros(c, dtype=dtype)
        return F.batch_norm(x, self.gamma, self.beta, self.avg_mean, self.avg_var,
                            self.decay, self.eps)


class RNN(Layer):
    """Elman recurrent layer ``h = tanh(x W_x + b + h_prev W_h)`` with its state kept
    between calls (the book's ``L.RNN``); ``reset_state()`` starts a new sequence.

    Parameters
    ----------
    hidden_size : int
        Size of the state ``h``.
    in_size : int, optional
        Input features; taken from the first input if None.
    dtype : numpy dtype
        Floating dtype of the weights (default float64).
    rng, seed : numpy Generator or int, optional
        Source of the weights (LeCun scale ``sqrt(1 / fan_in)``, the book's);
        numpy's global random state by default.

    Examples
    --------
    >>> import numpy as np
    >>> rnn = RNN(4, seed=0)
    >>> h1 = rnn(np.ones((2, 3)))
    >>> h2 = rnn(np.ones((2, 3)))   # uses h1
    >>> h2.shape, bool(np.allclose(h1.data, h2.data))
    ((2, 4), False)
    >>> rnn.reset_state()
    >>> bool(np.allclose(rnn(np.ones((2, 3))).data, h1.data))
    True
    """

    def __init__(self, hidden_size: int, in_size: int | None = None, dtype: Any = np.float64,
                 rng: np.random.Generator | int | None = None, seed: int | None = None) -> None:
        super().__init__()
        H = _positive_int(hidden_size, "RNN: hidden_size")
        gen = _make_rng(rng, seed, "RNN")
        self.x2h = Linear(H, in_size=in_size, dtype=dtype, rng=gen, init="lecun")
        self.h2h = Linear(H, in_size=H, nobias=True, dtype=dtype, rng=gen, init="lecun")
        self.h: Variable | None = None

    def reset_state(self) -> None:
        """Forget the state: the next call starts a new sequence.

        Examples
        --------
        >>> import numpy as np
        >>> rnn = RNN(2, seed=0)
        >>> _ = rnn(np.ones((1, 3)))
        >>> rnn.reset_state()
        >>> rnn.h is None
        True
        """
        self.h = None

    def forward(self, x: Any) -> Variable:
        """One time step: the new state from ``x`` and the previous state.

        Parameters
        ----------
        x : Variable or array_like
            Input batch ``(N, in_size)``.

        Returns
        -------
        Variable
            The new state ``(N, hidden_size)`` (also kept as ``self.h``).

        Examples
        --------
        >>> import numpy as np
        >>> RNN(2, seed=0)(np.zeros((1, 3))).shape
        (1, 2)
        """
        a = self.x2h(x)
        h = F.tanh(a if self.h is None else a + self.h2h(self.h))  # type: ignore[attr-defined]
        self.h = h
        return h


class LSTM(Layer):
    """Long short-term memory layer with its state ``(h, c)`` kept between calls (the
    book's ``L.LSTM``); ``reset_state()`` starts a new sequence.

    Gates ``f, i, o = sigmoid(x W + b + h_prev U)`` and candidate ``u = tanh(...)``;
    ``c = f c_prev + i u`` (``i u`` at the first step) and ``h = o tanh(c)``.

    Parameters
    ----------
    hidden_size : int
        Size of ``h`` and ``c``.
    in_size : int, optional
        Input features; taken from the first input if None.
    dtype : numpy dtype
        Floating dtype of the weights (default float64).
    rng, seed : numpy Generator or int, optional
        Source of the weights (LeCun scale); numpy's global random state by default.

    Examples
    --------
    >>> import numpy as np
    >>> lstm = LSTM(5, seed=0)
    >>> lstm(np.ones((2, 3))).shape, lstm.c.shape
    ((2, 5), (2, 5))
    """

    def __init__(self, hidden_size: int, in_size: int | None = None, dtype: Any = np.float64,
                 rng: np.random.Generator | int | None = None, seed: int | None = None) -> None:
        super().__init__()
        H = _positive_int(hidden_size, "LSTM: hidden_size")
        gen = _make_rng(rng, seed, "LSTM")

        def lin(src: int | None, nobias: bool = False) -> Linear:
            return Linear(H, in_size=src, nobias=nobias, dtype=dtype, rng=gen, init="lecun")

        self.x2f, self.x2i, self.x2o, self.x2u = (lin(in_size) for _ in range(4))
        self.h2f, self.h2i, self.h2o, self.h2u = (lin(H, True) for _ in range(4))
        self.h: Variable | None = None
        self.c: Variable | None = None

    def reset_state(self) -> None:
        """Forget the state: the next call starts a new sequence.

        Examples
        --------
        >>> import numpy as np
        >>> lstm = LSTM(2, seed=0)
        >>> _ = lstm(np.ones((1, 3)))
        >>> lstm.reset_state()
        >>> lstm.h is None and lstm.c is None
        True
        """
        self.h = None
        self.c = None

    def forward(self, x: Any) -> Variable:
        """One time step.

        Parameters
        ----------
        x : Variable or array_like
            Input batch ``(N, in_size)``.

        Returns
        -------
        Variable
            The new ``h`` ``(N, hidden_size)`` (``h`` and ``c`` are kept).

        Examples
        --------
        >>> import numpy as np
        >>> LSTM(2, seed=0)(np.zeros((1, 3))).shape
        (1, 2)
        """
        pre = [self.x2f(x), self.x2i(x), self.x2o(x), self.x2u(x)]
        if self.h is not None:
            pre = [p + h2(self.h) for p, h2 in
                   zip(pre, (self.h2f, self.h2i, self.h2o, self.h2u))]
        # Any: Variable's arithmetic operators are generated (mypy does not see them)
        f, i, o = (F.sigmoid(p) for p in pre[:3])  # type: Any, Any, Any
        u: Any = F.tanh(pre[3])  # type: ignore[attr-defined]
        c: Any = i * u if self.c is None else f * self.c + i * u
        h: Any = o * F.tanh(c)  # type: ignore[attr-defined]
        self.h, self.c = h, c
        return h
