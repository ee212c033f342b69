"""Second-order results kept in the float range by seeds scaled with powers of two.

A second derivative formed by an engine passes through single floats that are
products of the seeds with ``f''(u) u'``: reverse's adjoint of ``u`` in the
second pass, or the dual part of a first pass run on Dual data.  That float
can under/overflow where the final ``f''(u) u'**2 + f'(u) u''`` is an ordinary
float (d2/dx2 log10(x**2) at 1e150: ``-4e-601 * 2e150`` underflowed and the
result had the wrong sign).  Every such intermediate is linear in the seeds,
so the computation is redone with the seeds scaled by powers of two and the
result scaled back (:func:`second_order`).

Two kinds of callers: the second-order helpers of ``reverse`` (one helper call
owns both seeds), and a first-order helper of either engine whose ``f`` called
another helper on its perturbed data (nesting: ``reverse.jacobian`` of
``reverse.gradient``).  The inner helper counts itself (:func:`nested_call`,
which returns the exponent its seed is to carry) and multiplies its result by
the inverse power of two inside the outer trace, so the value that ``f`` sees
is unchanged while the outer pass meets the scaled adjoints; the outer helper,
seeing the count move during its call, redoes itself through
:func:`second_order` with its own seed scaled as well.  A helper call on its
own runs its first pass :func:`armed`: the first nested call ends that pass at
once (:class:`NestedRestart`), so a nested computation costs the watched pass
and not an unwatched one before it.

Examples
--------
>>> import numpy as np
>>> second_order(lambda kt, ks: np.ldexp(np.array([1.5]), kt + ks), True)
array([1.5])
"""

from __future__ import annotations

import contextvars
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import IN_BACKWARD, WATCH_UNDERFLOW, finite_array

#: The seed exponent that an outer helper's retry asks of the helper calls nested
#: in its f (see :func:`nested_call`); 0 outside such a retry.
NEST_SCALE: contextvars.ContextVar[int] = contextvars.ContextVar(
    "exactdiff_nest_scale", default=0)

#: Helper calls so far that ran on an outer trace's data (a counter, compared by
#: the outer helper before and after its call; another thread's count only costs
#: a redo that gives the same result).
NESTED = [0]


#: The reverse-evaluation depth from which a nested helper call ends the first
#: pass of an armed outer call (None: no call is armed in this context).
_ARMED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "exactdiff_nest_armed", default=None)

#: What :func:`armed` returns when a nested helper call ended the pass.
RESTART = object()


class NestedRestart(BaseException):
    """Raised by a nested helper call inside an armed first pass; caught by the
    outer call that armed it.  (A BaseException, so that an ``except Exception``
    in the user's f does not swallow it.)"""


def nested_call(depth: float = math.inf) -> int:
    """Count a helper call nested in another one; the exponent k of its seed 2**k.

    ``depth``: the caller's reverse-evaluation depth (hyperdual's calls: inf).
    Inside an :func:`armed` pass at that depth, raises :class:`NestedRestart`.

    Examples
    --------
    >>> nested_call()
    0
    """
    NESTED[0] += 1
    level = _ARMED.get()
    if level is not None and depth >= level:
        raise NestedRestart
    return NEST_SCALE.get()


def armed(level: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, the first pass of a helper call on its own, or
    :data:`RESTART` if a helper call nested in it (at reverse depth >= ``level``)
    ended it: the caller then goes straight to its watched :func:`second_order`.
    Inside another armed call, ``fn`` just runs (the outer call restarts).

    Examples
    --------
    >>> armed(0, lambda: nested_call()) is RESTART
    True
    >>> armed(0, lambda: 3.0)
    3.0
    """
    if _ARMED.get() is not None:
        return fn(*args, **kwargs)
    token = _ARMED.set(level)
    try:
        return fn(*args, **kwargs)
    except NestedRestart:
        return RESTART
    finally:
        _ARMED.reset(token)


def out_of_range(r: Any) -> bool:
    """Whether ``r``, a first-order result, is a float or float64 array with an
    inf or nan entry, or a float that is 0 or subnormal: then the helper redoes
    itself through :func:`second_order` with its seed scaled (an adjoint that
    overflowed at seed 1 may be in range at 2**-400; one that underflowed, at
    2**600), which costs one watched pass where nothing under- or overflowed (a
    derivative that is exactly 0).  An array's zeros are not redone (they are
    common: a ReLU's gradient), so an array entry flushed to 0 by an underflow
    stays 0.  Other results (an outer trace's values, other dtypes, lazy arrays)
    are never redone.  One float test, or one reduction of the array.

    Examples
    --------
    >>> out_of_range(1.0), out_of_range(float("-inf")), out_of_range(np.array([1.0, np.nan]))
    (False, True, True)
    >>> out_of_range(0.0), out_of_range(np.array([0.0, 1.0]))
    (True, False)
    """
    t = type(r)
    if t is float:
        return r - r != 0.0 or abs(r) < _TINY
    if t is np.ndarray and r.dtype == np.float64:
        return not finite_array(r)
    return False


def scaled_seed(seed: Any, k: int) -> Any:
    """``seed * 2**k`` (exact); the seed itself for k = 0.

    Examples
    --------
    >>> scaled_seed(np.array([1.0, -3.0]), 4)
    array([ 16., -48.])
    """
    if k == 0:
        return seed
    if isinstance(seed, (np.ndarray, np.generic, float, int)):
        return np.ldexp(seed, k)
    return seed * (2.0 ** k)  # a number of an outer trace (Variable, Dual): recorded


#: Seed exponents (cotangent 2**kt, direction 2**ks) that second_order retries
#: with: up where an adjoint underflowed, down where one overflowed.
_RETRY_UP = ((600, 0), (0, 600), (300, 300), (500, 500), (1000, 0))
_RETRY_DOWN = ((0, -400), (-400, 0), (0, -500), (-250, -250), (-300, -300), (-400, -400),
               (-600, -600))
#: Further down, for callers whose two seeds are separate floats (``separate``):
#: adjoints such as 1/u**2 at u = 1e-240 need a cotangent below 2**-570, and a
#: truth beyond the float range is then seen at two scales (+-inf, not nan).
_RETRY_FAR = ((-700, -500), (-800, -600))

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)


_ALL_WARNED = {"over": "call", "invalid": "call", "divide": "call"}

#: numpy's names of the floating-point errors, by their errstate key
_KINDS = {"overflow": "over", "invalid value": "invalid", "divide by zero": "divide"}


def _float_result(r: Any) -> bool:
    return type(r) is float or (type(r) is np.ndarray and r.dtype == np.float64)


def second_order(run: Callable[[int, int], Any], plain: bool, cotangent_kept: bool = False,
                 separate: bool = False, one_seed: bool = False) -> Any:
    """``run(0, 0)``, a second-order result (Hessian, H v, f'', a nested first
    derivative), kept in range.

    ``run(kt, ks)`` is the computation with the first pass's seed (cotangent)
    scaled by ``2**kt`` and the second's (direction) by ``2**ks``: its result is
    exactly ``2**(kt + ks)`` times the truth unless some intermediate leaves the
    range.  So the pass runs once as usual, watching numpy's underflow flag (and
    the overflow flag inside the library's own quiet blocks), only where the
    user's ``np.errstate`` ignores underflow and does not 'call' on overflow
    (numpy's default), so their settings keep their effect.  Where something
    underflowed or an entry is inf or nan, the pass is redone with the seeds
    scaled up (or down) and the result scaled back: the first retry with no flag
    and finite entries is the answer.  Otherwise each entry is taken from the
    pass that did not overflow and had the largest seeds where it is finite and
    a pass at another scale gave the same (an underflow loses terms, an overflow
    shows; where the first pass did not underflow, a retry that did is not
    used), so a genuine inf, nan or 0 stays one, and an underflow that scaling
    leaves unchanged (f's own exp(-800)) keeps the first result.  A normal
    entry of a first pass that underflowed which no two passes at different
    scales confirm and a retry contradicts is nan: the underflow may have
    dropped a term, and a finite number of the wrong sign must not pass
    silently.  ``plain``: the input is a float64 array
    (an outer trace's Variables, Duals and lazy arrays take the one pass).
    ``cotangent_kept``: ``run``'s result is ``2**ks`` times the truth (a forward
    outer helper: the nested helper scales its cotangent 2**kt back itself);
    otherwise it may be one seed of ``2**(kt + ks)`` (a reverse outer helper),
    so pairs whose sum leaves the float range are not tried.  ``separate``: each
    seed is a float of its own (reverse's second-order helpers), so pairs down
    to 2**-1800 are tried too.  An entry that is beyond the float range (a
    retry without overflow gives a finite result that overflows when scaled
    back) is +-inf once a pass at another scale agrees: never nan where the
    truth is an overflow, and never a finite number.

    Examples
    --------
    >>> second_order(lambda kt, ks: 2.0 * 2.0 ** (kt + ks), True)
    2.0
    """
    if not plain:
        return run(0, 0)
    mode = np.geterr()
    if mode["under"] != "ignore" or mode["over"] == "call":
        return run(0, 0)
    flags: set = set()
    previous = np.geterrcall()
    # the kinds the user's numpy settings warn of: in the first pass, they warn
    # of what f does, but not of reverse mode's own backward pass (an adjoint
    # that overflows there is the watch's business: warnings as errors must not
    # stop a call whose result is right)
    if mode["over"] == mode["invalid"] == mode["divide"] == "warn":  # numpy's default
        warned, probe = _ALL_WARNED, "invalid"
    else:
        warned = {k: "call" for k in ("over", "invalid", "divide") if mode[k] == "warn"}
        # (inside the library's quiet blocks these are 'ignore' again)
        probe = "invalid" if "invalid" in warned else "divide" if "divide" in warned else None

    def watch(kind: str, flag: int) -> None:
        if kind == "underflow" or kind == "overflow" and (
                "over" not in warned or probe is None or np.geterr()[probe] == "ignore"):
            flags.add(kind)  # (an overflow in the library's quiet blocks)
        elif kind in _KINDS and _KINDS[kind] in warned:
            if not IN_BACKWARD.get():  # (not reverse's own adjoints)
                warnings.warn(f"{kind} encountered", RuntimeWarning, stacklevel=2)
        elif callable(previous):  # the user's own 'call' handler keeps the rest
            previous(kind, flag)
        elif previous is not None:
            previous.write(f"Warning: {kind} encountered\n")

    token = WATCH_UNDERFLOW.set(True)
    try:
        with np.errstate(under="call", call=watch, **warned):
            r0 = run(0, 0)
    finally:
        WATCH_UNDERFLOW.reset(token)
    if type(r0) is float:  # (the common case, checked cheaply)
        finite = math.isfinite(r0)
    elif type(r0) is np.ndarray and r0.dtype == np.float64:
        finite = finite_array(r0)
    else:
        return r0
    if finite and not flags:
        return r0
    a0 = np.asarray(r0)
    tries: list = []
    if "underflow" in flags:
        with np.errstate(all="ignore"):
            big = np.max(np.abs(np.where(np.isfinite(a0), a0, 0.0)), initial=0.0)
        if big > 0:
            k = -int(np.frexp(big)[1])
            if 32 < k <= 1000:
                tries.append((k, 0))
        tries += [t for t in _RETRY_UP if t not in tries]
    if not finite or "overflow" in flags:
        tries += _RETRY_DOWN
        if separate:
            tries += _RETRY_FAR
    # where the first pass did not underflow, a retry that did is no better than a
    # non-finite first result (scaled down too far, it loses the very terms that
    # overflowed: a finite number of the wrong sign, where inf at least has the
    # truth's sign)
    allow_under = "underflow" in flags
    runs = [(a0, "overflow" in flags, 0, 0)]
    agree: set = set()
    clean: list = []
    raws: list = []  # (raw result, its exponent, scaled back) of the passes without a flag
    signs: list = []  # every retry's raw result (a sign that contradicts is a veto)
    done = {0}
    i = 0
    while i < len(tries):
        kt, ks = tries[i]
        i += 1
        if one_seed:
            if kt + ks in done:
                continue
            done.add(kt + ks)
        far = not cotangent_kept and not -1000 <= kt + ks <= 1000
        if far and not separate:
            continue
        flags.clear()
        token = WATCH_UNDERFLOW.set(True)
        try:
            with np.errstate(all="ignore", under="call", over="call", call=watch):
                r = run(kt, ks)
        finally:
            WATCH_UNDERFLOW.reset(token)
        if not _float_result(r):
            return r0
        raw = np.asarray(r)
        e = ks if cotangent_kept else kt + ks
        with np.errstate(all="ignore"):
            back = np.ldexp(raw, -e)
        signs.append(raw)
        if far:
            # so far down, an underflow can go unseen (Python floats): these
            # passes only witness an entry beyond the range (_beyond_range)
            if not flags:
                raws.append((raw, e, back))
            continue
        if not flags and np.isfinite(back).all():
            # (an inf after scaling back is left to the selection below: only a
            # confirmed pass may replace the first result's nan or inf)
            if kt + ks > 0 or not allow_under or any(
                    np.all(np.abs(back - other) <= 4 * _EPS * np.abs(back))
                    for other, total in clean if total != kt + ks):
                return float(back) if type(r0) is float else back
            # scaled down where the first pass underflowed, a product can
            # underflow unseen (Python floats, scipy's special functions raise no
            # flag): accepted once another scale agrees
            clean.append((back, kt + ks))
        if finite and kt >= 0 and ks >= 0 and np.array_equal(back, a0):
            # an underflow that did not touch the result: once scaling each seed
            # up leaves it unchanged, no retry will change it
            agree.add("cotangent" if kt else "direction")
            if len(agree) == 2 or one_seed:
                return r0
        if allow_under or "underflow" not in flags:
            runs.append((back, "overflow" in flags, kt, ks))
        if not flags:
            raws.append((raw, e, back))
    # per entry: a finite value that a pass at another scale confirms (a pass
    # can go wrong unseen where Python floats carry a scalar), then no overflow,
    # then the largest seeds; none: the first result (or nan, below)
    best = a0.copy()
    if allow_under:
        # a normal entry of an underflowing first pass that a retry without
        # overflow contradicts (a finite value not within rounding, or an inf of
        # the other sign) is nan (0 and subnormals stay: a truth that underflows
        # is one)
        with np.errstate(all="ignore"):
            doubt = np.zeros(a0.shape, dtype=bool)
            for back, over, _, _ in runs[1:]:
                if not over:
                    doubt |= np.where(np.isfinite(back),
                                      np.abs(back - a0) > 4 * _EPS * np.abs(a0),
                                      np.isinf(back) & (np.sign(back) != np.sign(a0)))
            best[doubt & np.isfinite(a0) & (np.abs(a0) >= _TINY)] = np.nan
    rank = np.full(a0.shape, -np.inf)
    for i, (back, over, kt, ks) in enumerate(runs):
        with np.errstate(all="ignore"):
            confirmed = np.zeros(a0.shape, dtype=bool)
            for j, (other, _, kt2, ks2) in enumerate(runs):
                if j != i and (kt2 + ks2 != kt + ks or cotangent_kept and ks2 != ks):
                    confirmed |= np.abs(back - other) <= 4 * _EPS * np.abs(back)
        score = (0.0 if over else 1e6) + 1e3 * (kt + ks) + min(kt, ks)
        take = np.isfinite(back) & confirmed & (score > rank)
        best = np.where(take, back, best)
        rank = np.where(take, score, rank)
    if raws:
        best = _beyond_range(best, a0, raws, signs)
    return float(best) if type(r0) is float else best


def _beyond_range(best: np.ndarray, a0: np.ndarray, raws: list, signs: list) -> np.ndarray:
    """``best`` with +-inf where the first result is not finite and the passes
    without a flag agree on a finite raw result that is beyond the float range
    scaled back: two of them at different scales, none of them contradicts
    (compared at the smaller scale), and no retry at all has a finite result of
    the other sign.  (Passes that underflowed are no witnesses: two of them at
    scales with one seed in common agreed on the wrong sign; and where Python
    floats carry a scalar, an underflow raises no flag: three passes at 2**-1800
    and below agreed on the wrong sign, which flagged passes contradicted.)"""
    with np.errstate(all="ignore"):
        for i, (raw, e, back) in enumerate(raws):
            cand = ~np.isfinite(a0) & np.isinf(back) & np.isfinite(raw) & (raw != 0)
            if not cand.any():
                continue
            seen = np.zeros(a0.shape, dtype=bool)
            veto = np.zeros(a0.shape, dtype=bool)
            for other in signs:
                veto |= np.isfinite(other) & (other != 0) & (np.sign(other) != np.sign(raw))
            for j, (raw2, e2, _) in enumerate(raws):
                if j == i:
                    continue
                x, y = (raw, np.ldexp(raw2, e - e2)) if e <= e2 else (np.ldexp(raw, e2 - e),
                                                                       raw2)
                near = np.abs(x - y) <= 4 * _EPS * np.abs(x)
                veto |= np.isfinite(raw2) & ~near
                if e2 != e:
                    seen |= near
            ok = cand & seen & ~veto
            if ok.any():
                best = np.where(ok, back, best)
            return best
    return best
