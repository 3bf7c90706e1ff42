"""The case tables, one pydantic row model per CSV file (README, The case format).

These models are the single place where a column, its type, default, range and meaning are
described. :mod:`solver.case.tables` reads a CSV file against them (vectorised, so that a
million-row table is read in a fraction of a second), and the README's case format is
generated from the same field descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]

#: The consumer that stands for the whole coalition when a case has no demand.csv.
COALITION = "coalition"

SAME_AS_KEY = "= key"
"""Marker default: the column takes the value of the row's key column (e.g. name = partner)."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartnerRow(_Row):
    """partners.csv: one row per partner (a country or supplier)."""

    partner: Id = Field(description="unique key")
    name: str = Field(default=SAME_AS_KEY, description="display name (default: the key)")
    member: bool = Field(
        default=True,
        description="coalition member: may carry demand; non-members are outside suppliers only",
    )
    trust: Fraction = Field(default=1.0, description="trust score; layers may demand a minimum")
    min_participation: Fraction = Field(
        default=0.0, description="floor on the partner's share of the stack's total value"
    )
    max_participation: Fraction = Field(default=1.0, description="ceiling on that share")
    disruption_risk: Fraction = Field(
        default=0.0,
        description="chance that the partner's supply is lost; priced by objective.risk_weight",
    )
    bloc: Id = Field(
        default=SAME_AS_KEY,
        description="the group a member negotiates in (`eu`, `north_america`, ...): the "
        "players of `share --players bloc` (default: the key)",
    )


class LayerRow(_Row):
    """layers.csv: one row per layer of the technology stack."""

    layer: Id = Field(description="unique key")
    name: str = Field(default=SAME_AS_KEY, description="display name (default: the key)")
    demand: NonNegative | None = Field(
        default=None, description="coalition-wide demand; used only when demand.csv is absent"
    )
    unit_value: NonNegative = Field(
        default=1.0,
        description="market value of one unit (participation is measured in value)",
    )
    min_suppliers: Annotated[int, Field(ge=0)] = Field(
        default=1, description="diversification: at least this many partners supply the layer"
    )
    min_supplier_share: Fraction = Field(
        default=0.05,
        description="a partner counts as a supplier only if it supplies at least this share "
        "of the layer's demand",
    )
    max_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=1.0,
        description="anti-concentration: no partner supplies more than this share of the demand",
    )
    min_trust: Fraction = Field(
        default=0.0, description="only partners with trust >= this may supply the layer"
    )
    resilience: Fraction = Field(
        default=0.0,
        description="N-k: after losing any `resilience_k` hosts at once, the rest of the built "
        "capacity covers at least this share of demand",
    )
    resilience_k: Annotated[int, Field(ge=1)] = Field(
        default=1, description="how many hosts may be lost at once (1: N-1)"
    )
    redundancy_cost: NonNegative = Field(
        default=0.0,
        description="penalty per unit of capacity built above demand (cost of fragmentation)",
    )
    max_surplus: NonNegative | None = Field(
        default=None, description="cap on surplus capacity, as a share of demand"
    )


class CapabilityRow(_Row):
    """capabilities.csv: one row per (partner, layer) that can be produced."""

    partner: Id = Field(description="a partner of partners.csv")
    layer: Id = Field(description="a layer of layers.csv")
    capacity: NonNegative = Field(description="most capacity that can be built")
    unit_cost: NonNegative = Field(description="cost per unit of capacity built")
    fixed_cost: NonNegative = Field(default=0.0, description="cost of hosting the layer at all")
    min_capacity: NonNegative = Field(
        default=0.0, description="minimum efficient scale if hosted (<= capacity)"
    )
    existing: NonNegative = Field(
        default=0.0, description="capacity installed before the first period (<= capacity)"
    )
    existing_cost: NonNegative | None = Field(
        default=None, description="annual cost per unit of existing capacity (its capital is "
        "sunk; empty: = unit_cost)"
    )
    existing_until: int | None = Field(
        default=None, description="existing capacity is out of service in periods whose year "
        ">= this (empty: never)"
    )
    lead_time: NonNegative = Field(
        default=0.0, description="years from the decision to build to service"
    )
    lifetime: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="years new capacity serves once in service (empty: forever)"
    )
    max_build: NonNegative | None = Field(
        default=None, description="most new capacity decided in one period, the build rate "
        "(empty: = capacity)"
    )


class DemandRow(_Row):
    """demand.csv: one row per (member, layer) with demand."""

    member: Id = Field(description="a partner with member = true")
    layer: Id = Field(description="a layer of layers.csv")
    demand: NonNegative = Field(description="units needed by this member")
    max_dependency: Fraction = Field(
        default=1.0,
        description="exit rights: no single foreign partner supplies more than this share",
    )
    min_domestic: Fraction = Field(
        default=0.0, description="sovereignty: at least this share is produced at home"
    )


class TradeRow(_Row):
    """trade.csv: one row per route (exporter, importer), or per route and layer."""

    exporter: Id = Field(description="a partner")
    importer: Id = Field(description="a partner (or `coalition` when there is no demand.csv, "
                         "or a market of markets.csv)")
    layer: Id | None = Field(
        default=None,
        description="only this layer (empty: every layer); overrides the route's row without "
        "a layer for that layer",
    )
    unit_cost: NonNegative = Field(
        default=0.0, description="cost per unit shipped (transport, tariff, friction)"
    )
    allowed: bool = Field(default=True, description="false forbids the route (export control)")


#: Where an input may come from (inputs.csv, column source).
SOURCES = ("any", "bloc", "local")


class InputRow(_Row):
    """inputs.csv: one row per (layer, input): what producing one unit of a layer consumes."""

    layer: Id = Field(description="the layer whose production needs the input")
    input: Id = Field(description="the layer consumed (may equal `layer`: own use)")
    per_unit: NonNegative = Field(
        description="units of `input` consumed per unit of `layer` supplied"
    )
    source: Literal["any", "bloc", "local"] = Field(
        default="any",
        description="where the input may come from: `any` (over the allowed routes), `bloc` "
        "(a partner of the producer's own bloc) or `local` (the producer itself)",
    )


class MarketRow(_Row):
    """markets.csv: one row per (market, layer) outside the coalition that it competes to supply."""

    market: Id = Field(description="a market's key, not a partner id (`BR`, `ID_market`, "
                       "`africa`)")
    layer: Id = Field(description="a layer of layers.csv")
    demand: NonNegative = Field(description="the market's demand for the layer")
    min_share: Fraction = Field(
        default=0.0, description="the coalition's floor on its share of that demand"
    )
    max_share: Fraction = Field(
        default=1.0, description="its ceiling (countries blend providers)"
    )
    price: NonNegative = Field(
        default=0.0, description="what the market pays per unit (a rival's price): revenue "
        "for the coalition"
    )
    entry_cost: NonNegative = Field(
        default=0.0, description="the cost of serving this market with this layer at all "
        "(co-deployment)"
    )


class PeriodRow(_Row):
    """periods.csv: one row per planning period, in order (README, Pathways)."""

    period: Id = Field(description="the period's key (`2026`, `2030-34`)")
    year: int = Field(description="first year of the period; strictly increasing down the file")
    years: Annotated[float, Field(gt=0.0)] = Field(
        default=1.0, description="how many years the period's annual costs count for"
    )
    demand_factor: NonNegative = Field(
        default=1.0, description="multiplies every final demand row in this period"
    )


class TargetRow(_Row):
    """targets.csv: per-period values in the override syntax of `--set` (README, Pathways)."""

    period: Id = Field(description="a period of periods.csv; the row applies to it only")
    set: str = Field(description="an override as `--set` takes it "
                     "(`layers[semiconductors].max_share=0.4`, `demand[*,ai_models].demand*=2`)")


class ScenarioRow(_Row):
    """scenarios.csv: one row per disruption event; a scenario is the set of its rows."""

    scenario: Id = Field(description="the scenario's key (`taiwan_strait`, `eu_grid_crisis`)")
    probability: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="its chance per planning period; the same on every row of a scenario; all "
        "scenarios' sum <= 1, the rest is \"no disruption\""
    )
    partner: Id | None = Field(
        default=None, description="a partner that loses capacity (empty on a route row)"
    )
    layer: Id | None = Field(
        default=None,
        description="only this layer of that partner or route (empty: every layer)",
    )
    exporter: Id | None = Field(
        default=None, description="a route that closes: its exporter (with importer; not with "
        "partner)"
    )
    importer: Id | None = Field(
        default=None, description="the closed route's importer (with exporter)"
    )
    capacity_factor: Fraction = Field(
        default=0.0,
        description="the share of the partner's built capacity that survives (0: lost)",
    )


@dataclass(frozen=True)
class TableSpec:
    """How one case file is named, keyed and described."""

    table: str
    row: type[_Row]
    key: tuple[str, ...]
    required: bool

    @property
    def filename(self) -> str:
        """The CSV file name in a case folder."""
        return f"{self.table}.csv"


TABLES: dict[str, TableSpec] = {
    spec.table: spec
    for spec in (
        TableSpec("partners", PartnerRow, ("partner",), True),
        TableSpec("layers", LayerRow, ("layer",), True),
        TableSpec("capabilities", CapabilityRow, ("partner", "layer"), True),
        TableSpec("demand", DemandRow, ("member", "layer"), False),
        TableSpec("trade", TradeRow, ("exporter", "importer", "layer"), False),
        TableSpec("scenarios", ScenarioRow,
                  ("scenario", "partner", "layer", "exporter", "importer"), False),
        TableSpec("inputs", InputRow, ("layer", "input"), False),
        TableSpec("periods", PeriodRow, ("period",), False),
        TableSpec("targets", TargetRow, ("period", "set"), False),
        TableSpec("markets", MarketRow, ("market", "layer"), False),
    )
}

Kind = Literal["id", "text", "float", "int", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a case table, read off its pydantic field."""

    name: str
    kind: Kind
    required: bool
    default: Any
    optional: bool
    lower: float | None
    lower_strict: bool
    upper: float | None
    upper_strict: bool
    description: str

    def range_text(self) -> str:
        """The allowed range in words, e.g. ``in [0, 1]`` or ``>= 0``."""
        if self.lower is not None and self.upper is not None:
            left = "(" if self.lower_strict else "["
            right = ")" if self.upper_strict else "]"
            return f"in {left}{_num(self.lower)}, {_num(self.upper)}{right}"
        if self.lower is not None:
            return f"{'>' if self.lower_strict else '>='} {_num(self.lower)}"
        if self.upper is not None:
            return f"{'<' if self.upper_strict else '<='} {_num(self.upper)}"
        return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


#: :func:`columns` of each row model, worked out once (a model's fields do not change).
_COLUMNS: dict[type, dict[str, ColumnSpec]] = {}


def columns(row: type[_Row]) -> dict[str, ColumnSpec]:
    """The column specs of a row model, in file order (a new dict; the specs are frozen)."""
    if row not in _COLUMNS:
        _COLUMNS[row] = _columns(row)
    return dict(_COLUMNS[row])


def _columns(row: type[_Row]) -> dict[str, ColumnSpec]:
    out: dict[str, ColumnSpec] = {}
    for name, field in row.model_fields.items():
        ann: Any = field.annotation
        optional = False
        args = getattr(ann, "__args__", None)
        if args and type(None) in args:
            optional = True
            ann = next(a for a in args if a is not type(None))
        metadata = list(field.metadata)
        if hasattr(ann, "__metadata__"):
            metadata.extend(ann.__metadata__)
            ann = ann.__origin__
        for m in list(metadata):
            if isinstance(m, FieldInfo):
                metadata.extend(m.metadata)
        kind: Kind
        if ann is bool:
            kind = "bool"
        elif ann is int:
            kind = "int"
        elif ann is float:
            kind = "float"
        elif any(getattr(m, "pattern", None) == ID_PATTERN for m in metadata):
            kind = "id"
        else:
            kind = "text"
        lower = upper = None
        lower_strict = upper_strict = False
        for m in metadata:
            if isinstance(m, Ge):
                lower = float(m.ge)  # type: ignore[arg-type]
            elif isinstance(m, Gt):
                lower, lower_strict = float(m.gt), True  # type: ignore[arg-type]
            elif isinstance(m, Le):
                upper = float(m.le)  # type: ignore[arg-type]
            elif isinstance(m, Lt):
                upper, upper_strict = float(m.lt), True  # type: ignore[arg-type]
        out[name] = ColumnSpec(
            name=name,
            kind=kind,
            required=field.is_required(),
            default=None if field.is_required() else field.default,
            optional=optional,
            lower=lower,
            lower_strict=lower_strict,
            upper=upper,
            upper_strict=upper_strict,
            description=field.description or "",
        )
    return out


def numeric_columns(table: str) -> list[str]:
    """Columns of ``table`` that hold numbers (the ones ``*=`` may multiply)."""
    return [c.name for c in columns(TABLES[table].row).values() if c.kind in ("float", "int")]


def markdown_tables() -> str:
    """The case format as Markdown tables, one per file (the README's "case format")."""
    out = []
    for spec in TABLES.values():
        need = "required" if spec.required else "optional"
        what = (spec.row.__doc__ or ":").split(":", 1)[1].strip()
        out.append(f"**{spec.filename}** ({need}): {what}")
        out.append("")
        out.append("| column | type | default | meaning |")
        out.append("|---|---|---|---|")
        for col in columns(spec.row).values():
            kind = col.kind + (f" {col.range_text()}" if col.range_text() else "")
            if col.required:
                default = "required"
            elif col.default is None:
                default = "empty"
            elif col.default == SAME_AS_KEY:
                default = f"= {spec.key[0]}"
            else:
                default = (str(col.default).lower() if col.kind == "bool" else
                           str(col.default) if isinstance(col.default, str) else
                           _num(col.default))
            out.append(f"| {col.name} | {kind} | {default} | {col.description} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_tables(), end="")
