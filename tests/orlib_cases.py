"""Turn OR-Library capacitated warehouse location instances into coalition case folders.

The instances (Beasley 1988, see ``tests/orlib/README.md``) are a special case of the model:
one layer ``goods``; warehouses ``W1..Wm`` are non-member suppliers with a capacity and a fixed
cost; customers ``C1..Cn`` are members with demand and no capability; shipping from warehouse
``i`` to customer ``j`` costs ``c_ij / d_j`` per unit, so serving all of ``j`` from ``i`` costs
``c_ij``. With the layer's diversification, share and resilience requirements switched off, the
model's optimum is the published (multi-source) optimum.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ORLIB_DIR = Path(__file__).resolve().parent / "orlib"
LAYER = "goods"


@dataclass(frozen=True)
class OrlibInstance:
    """One capacitated warehouse location instance.

    ``cost[j][i]`` is the cost of serving all of customer ``j``'s demand from warehouse ``i``
    (both zero-based), as in the file.
    """

    capacity: tuple[float, ...]
    fixed_cost: tuple[float, ...]
    demand: tuple[float, ...]
    cost: tuple[tuple[float, ...], ...]

    @property
    def m(self) -> int:
        """Number of warehouses."""
        return len(self.capacity)

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.demand)


def read_orlib(instance_path: Path, capacity: float | None = None) -> OrlibInstance:
    """Parse an OR-Library ``cap*`` file; line breaks carry no meaning.

    ``capacity`` replaces the literal word ``capacity`` used by capa/capb/capc, which take the
    warehouse capacity as a parameter; it is required for those files and an error otherwise.
    A file whose name ends in ``.gz`` is read through gzip (the large capa/capb/capc copies).
    """
    path = Path(instance_path)
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" \
        else path.read_text()
    tokens = text.split()
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"{instance_path}: file ends early (after {pos} numbers)")
        token = tokens[pos]
        pos += 1
        return token

    def number() -> float:
        token = take()
        try:
            return float(token)
        except ValueError:
            raise ValueError(f"{instance_path}: number {pos} is {token!r}") from None

    m, n = int(number()), int(number())
    caps: list[float] = []
    fixed: list[float] = []
    for _ in range(m):
        token = take()
        if token.lower() == "capacity":
            if capacity is None:
                raise ValueError(f"{instance_path}: capacity is a parameter; pass capacity=")
            caps.append(float(capacity))
        else:
            caps.append(float(token))
        fixed.append(number())
    demand: list[float] = []
    cost: list[tuple[float, ...]] = []
    for _ in range(n):
        demand.append(number())
        cost.append(tuple(number() for _ in range(m)))
    if pos != len(tokens):
        raise ValueError(f"{instance_path}: {len(tokens) - pos} numbers left over")
    if any(d <= 0 for d in demand):
        raise ValueError(f"{instance_path}: every demand must be positive")
    return OrlibInstance(tuple(caps), tuple(fixed), tuple(demand), tuple(cost))


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _num(x: float) -> str:
    """Full precision: repr of a float round-trips exactly."""
    return repr(float(x))


def write_orlib_case(instance_path: Path, out_dir: Path, capacity: float | None = None) -> None:
    """Write the case folder (SPEC section 2) for one OR-Library instance into ``out_dir``.

    ``capacity`` is only needed for capa/capb/capc (see :func:`read_orlib`).
    """
    inst = read_orlib(instance_path, capacity)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    warehouses = [f"W{i + 1}" for i in range(inst.m)]
    customers = [f"C{j + 1}" for j in range(inst.n)]

    _write_csv(
        out / "partners.csv",
        ["partner", "member", "trust"],
        [(w, "false", "1") for w in warehouses] + [(c, "true", "1") for c in customers],
    )
    _write_csv(
        out / "layers.csv",
        [
            "layer",
            "min_suppliers",
            "min_supplier_share",
            "max_share",
            "resilience",
            "redundancy_cost",
        ],
        [(LAYER, "0", "0", "1", "0", "0")],
    )
    _write_csv(
        out / "capabilities.csv",
        ["partner", "layer", "capacity", "unit_cost", "fixed_cost", "min_capacity"],
        [
            (w, LAYER, _num(inst.capacity[i]), "0", _num(inst.fixed_cost[i]), "0")
            for i, w in enumerate(warehouses)
        ],
    )
    _write_csv(
        out / "demand.csv",
        ["member", "layer", "demand"],
        [(c, LAYER, _num(inst.demand[j])) for j, c in enumerate(customers)],
    )
    _write_csv(
        out / "trade.csv",
        ["exporter", "importer", "unit_cost"],
        [
            (w, c, _num(inst.cost[j][i] / inst.demand[j]))
            for i, w in enumerate(warehouses)
            for j, c in enumerate(customers)
        ],
    )


def optimum(name: str) -> float:
    """Published optimal objective of instance ``name`` (e.g. ``"cap41"``)."""
    for line in (ORLIB_DIR / "capopt_values.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return float(parts[1])
    raise KeyError(f"no published optimum for {name!r}")
