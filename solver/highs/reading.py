"""Reading a Pyomo model as it is stored: its variables, bounds, numbers and components.

What :mod:`solver.highs.compile` (and the model builder) needs from Pyomo, read in bulk with
numpy rather than one object at a time through Pyomo's public properties.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

INF = math.inf

#: Largest number handed to HiGHS: it takes 1e20 and above as infinite. (An unset budget
#: made mutable for a sweep is 1e19: finite, and above any cost.)
HUGE = 1e19

#: The types of plain numbers: a bound or coefficient of one of these is not parametric.
PLAIN = (float, int, np.float64, np.int64)


def release_freed_memory() -> None:
    """Give memory freed after a big build or hand-over back to the system.

    Building and compiling a million-variable model frees a few hundred MB of short-lived
    lists and arrays; the C allocator keeps much of it for reuse, so the process would carry
    it through HiGHS's solve (70-100 MB of resident memory at 1M flows). Only on glibc.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def addresses(objects: Sequence[Any] | np.ndarray) -> np.ndarray:
    """``id()`` of every object, as an int64 array.

    An object array's buffer holds the objects' addresses, which are their ids in CPython;
    reading it is 2-3 times faster than calling ``id`` (which makes a Python int per object)
    on the two million terms of a million-variable model.
    """
    n = len(objects)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    held = np.fromiter(objects, dtype=object, count=n)
    pointer = ctypes.cast(held.ctypes.data, ctypes.POINTER(ctypes.c_int64))
    return np.ctypeslib.as_array(pointer, shape=(n,)).copy()


@dataclass
class Columns:
    """The model's variables as HiGHS columns, and a vectorised ``var -> column`` lookup."""

    variables: list[Any]
    sorted_ids: np.ndarray
    order: np.ndarray

    @classmethod
    def of(cls, variables: list[Any]) -> Columns:
        """The columns of ``variables``, in that order."""
        ids = addresses(variables)
        order = np.argsort(ids, kind="stable")
        return cls(variables=variables, sorted_ids=ids[order], order=order)

    def __len__(self) -> int:
        return len(self.variables)

    def find(self, objects: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The column of each object, and whether it is one of the model's variables."""
        ids = addresses(objects)
        if not len(self.sorted_ids):
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.searchsorted(self.sorted_ids, ids)
        pos[pos == len(self.sorted_ids)] = 0
        hit = self.sorted_ids[pos] == ids
        return self.order[pos], hit

    def column(self, var: Any) -> int:
        """The column of one variable (``KeyError`` if it is not the model's)."""
        col, hit = self.find([var])
        if not hit[0]:
            raise KeyError(f"{var.name} is not a variable of the model being solved")
        return int(col[0])


@dataclass
class Bounds:
    """Column bounds and integrality as HiGHS takes them."""

    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray


def same_object(a: Any, b: Any) -> bool:
    """``a is b`` as a function (to map over two lists)."""
    return a is b


_LOCAL = threading.local()


@contextlib.contextmanager
def evaluating() -> Iterator[None]:
    """Within, each expression node is evaluated once (its value is remembered by id).

    The bounds and coefficients of a swept model share subexpressions: every row of a layer
    refers to the layer's demand, a sum over its demand rows, and the participation rows to
    the total value, a sum over all layers. Pyomo's ``value()`` walks the whole tree each
    time (13 s per re-solve of a 100k-flow model with demand swept); remembering each
    node's value while the numbers cannot change makes it one walk.
    """
    outer = getattr(_LOCAL, "memo", None)
    if outer is None:
        _LOCAL.memo = {}
    try:
        yield
    finally:
        if outer is None:
            _LOCAL.memo = None


def remember(ids: list[int], values: list[float]) -> None:
    """Within :func:`evaluating`, take these nodes (by id) as evaluated to these values."""
    memo = getattr(_LOCAL, "memo", None)
    if memo is not None:
        memo.update(zip(ids, values, strict=True))


def number(x: Any) -> float:
    """The value of a number or of a fixed Pyomo expression, as a float."""
    if x.__class__ in PLAIN:
        return float(x)
    memo = getattr(_LOCAL, "memo", None)
    if memo is None:
        from pyomo.core.expr.numvalue import value

        return float(value(x))
    return evaluate_memo(x, memo)


def evaluate_memo(x: Any, memo: dict[int, float]) -> float:
    """The value of ``x``, each node evaluated once through ``memo``."""
    if x.__class__ in PLAIN:
        return float(x)
    got = memo.get(id(x))
    if got is not None:
        return got
    if x.is_expression_type():
        # Pyomo's own evaluation step for the node, on its evaluated arguments.
        result = float(x._apply_operation([evaluate_memo(a, memo) for a in x.args]))
    else:
        from pyomo.core.expr.numvalue import value

        result = float(value(x))
    memo[id(x)] = result
    return result


def model_variables(model: Any, spans: dict[int, tuple[int, int]] | None = None) -> list[Any]:
    """Every variable of ``model``, component by component, in declaration order.

    ``spans``, if given, receives each component's ``(start, stop)`` in the list, by id.
    """
    from pyomo.core.base.var import Var

    out: list[Any] = []
    for comp in model.component_objects(Var, descend_into=True):
        start = len(out)
        out.extend(members(comp))
        if spans is not None:
            spans[id(comp)] = (start, len(out))
    return out


def members(comp: Any) -> list[Any]:
    """The data objects of a component, in the order of ``comp.values()``.

    ``values()`` looks every index up through a Python function (0.6 s at a million
    variables); when the component's storage holds every index in index order (a dense
    component, as :mod:`solver.model` builds them) the storage is read directly.
    """
    if not comp.is_indexed():
        return list(comp.values())
    data = getattr(comp, "_data", None)
    if isinstance(data, dict) and len(data) == len(comp.index_set()) and \
            list(data) == list(comp.index_set()):
        return list(data.values())
    return list(comp.values())


def active_constraints(model: Any) -> list[Any]:
    """The active constraints of ``model``, in declaration order."""
    from pyomo.core.base.constraint import Constraint

    return list(model.component_data_objects(Constraint, active=True, descend_into=True))


def active_objective(model: Any) -> Any:
    """The one active objective of ``model`` (``None`` if there is none)."""
    from pyomo.core.base.objective import Objective

    found = list(model.component_data_objects(Objective, active=True, descend_into=True))
    if len(found) > 1:
        raise ValueError(f"model {model.name!r} has {len(found)} active objectives; "
                         "HiGHS takes one")
    return found[0] if found else None


def column_bounds(variables: list[Any], held: HeldBounds | None = None) -> Bounds:
    """Bounds and integrality of ``variables``, as HiGHS columns.

    A variable's bound is the tighter of its own bound and its domain's; a fixed variable is
    a column with both bounds at its value. The variables' stored state (``_lb``, ``_ub``,
    ``_domain``, ``_fixed``) is read in bulk: the public ``lb``/``ub`` properties compute the
    same, one variable at a time, at five times the cost (0.5 s at a million variables); a
    stored bound that is not a plain number (an expression of mutable parameters) is
    evaluated. ``held`` keeps the bounds as read, for the next read of the same variables.
    ``tests/test_compile.py`` checks the result against the public properties.
    """
    n = len(variables)
    domains = list(map(attrgetter("_domain"), variables))
    dom_ids = addresses(domains)
    dom_lower = np.empty(n)
    dom_upper = np.empty(n)
    integer = np.zeros(n, dtype=np.uint8)
    for did in set(dom_ids[np.flatnonzero(np.diff(dom_ids, prepend=0))].tolist()):
        at = dom_ids == did
        lo, hi, step = domains[int(np.argmax(at))].get_interval()
        dom_lower[at] = -INF if lo is None else float(lo)
        dom_upper[at] = INF if hi is None else float(hi)
        integer[at] = 1 if step == 1 else 0
    lower = np.maximum(stored(variables, "_lb", -INF, held), dom_lower)
    upper = np.minimum(stored(variables, "_ub", INF, held), dom_upper)
    fixed = np.fromiter(map(attrgetter("_fixed"), variables), dtype=bool, count=n)
    if fixed.any():
        at_fixed = np.flatnonzero(fixed)
        values = np.array([variables[i].value for i in at_fixed.tolist()], dtype=float)
        lower[at_fixed] = values
        upper[at_fixed] = values
    return Bounds(lower=lower, upper=upper, integer=integer)


@dataclass
class HeldBounds:
    """The variables' stored bounds as :func:`stored` last read them, by attribute.

    Each entry: the bound objects (held, so that no other object can take one's address),
    their addresses, their values and the places of those that are expressions. A read that
    finds the same objects in the same places knows every plain number already and
    evaluates only the expressions (a re-solve's variables mostly keep their bounds).
    """

    last: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)


def stored(variables: list[Any], attr: str, missing: float,
           held: HeldBounds | None = None) -> np.ndarray:
    """The stored attribute ``attr`` of every variable as floats (``missing`` for None)."""
    raw = np.fromiter(map(attrgetter(attr), variables), dtype=object, count=len(variables))
    if held is None:
        return _stored(raw, missing)[0]
    at = addresses(raw)
    last = held.last.get(attr)
    if last is not None and np.array_equal(at, last[1]):
        out = last[2].copy()
        if len(last[3]):
            with evaluating():
                out[last[3]] = [number(x) for x in raw[last[3]].tolist()]
        return out
    out, rest = _stored(raw.copy(), missing)
    held.last[attr] = (raw, at, out.copy(), rest)
    return out


def _stored(raw: np.ndarray, missing: float) -> tuple[np.ndarray, np.ndarray]:
    """``raw`` (changed in place) as floats, and the places of the expressions evaluated."""
    absent = raw == None  # noqa: E711  (elementwise, on an object array)
    raw[absent] = missing
    try:
        return raw.astype(float), np.zeros(0, dtype=np.int64)
    except (TypeError, ValueError):  # a bound is an expression (of a mutable parameter)
        # Only those are evaluated; the plain numbers are read in bulk, as above.
        items = raw.tolist()
        plain = np.fromiter((x.__class__ in PLAIN for x in items), dtype=bool,
                            count=len(items))
        out = np.empty(len(items))
        out[plain] = raw[plain].astype(float)
        rest = np.flatnonzero(~plain)
        with evaluating():
            out[rest] = [number(items[i]) for i in rest.tolist()]
        return out, rest
