"""The options of a run that a model file sets (README, The case format): a model per table.

``[objective]``, ``[solver]``, ``[sweep]``, ``[scenarios]``, ``[share]``, ``[sensitivity]``
and the file itself
(:class:`ModelFile`). A study
with options of its own adds its table here, as a class and a field of :class:`ModelFile`
(and of :class:`solver.case.loader.Case`, which carries them to the run).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ObjectiveOptions(BaseModel):
    """Weights of the objective terms and the optional budget (``[objective]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redundancy_weight: float = Field(default=1.0, ge=0, le=1e12,
                                     description="weight of redundancy")
    risk_weight: float = Field(default=0.0, ge=0, le=1e12,
                               description="weight of disruption risk")
    budget: float | None = Field(default=None, ge=0, le=1e15,
                                 description="cap on fixed+capacity+trade")
    shortage_cost: float | None = Field(
        default=None, ge=0, le=1e15,
        description="price per unit of unmet demand; unset: demand is hard (README, The model)")
    discount_rate: float = Field(
        default=0.0, ge=0, le=1,
        description="discount rate r: period t's costs count (1 + r)^-(year_t - year_first) "
        "(README, Pathways)")


class SolverOptions(BaseModel):
    """How HiGHS is run (``[solver]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                                     description="seconds")
    mip_gap: float = Field(default=1e-4, ge=0, allow_inf_nan=False,
                           description="relative MIP gap")
    threads: int = Field(default=1, ge=1, description="HiGHS threads")
    name: str = Field(default="highs", description="MILP solver: highs, or any that Pyomo "
                      "drives and is installed (scip, gurobi, cbc, ...)")


class SweepOptions(BaseModel):
    """What ``coalition sweep`` varies when the command line names nothing (``[sweep]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vary: list[str] = Field(default_factory=list, description="KEY=SPEC entries")
    mode: str = Field(default="grid", description="grid or one-at-a-time")


class ScenarioOptions(BaseModel):
    """How scenarios.csv shapes the design (``[scenarios]``, README, Shocks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    design: Literal["none", "expected", "cvar"] = Field(
        default="none", description="none: only report each scenario; expected: two-stage "
        "design against the expected recourse cost; cvar: a blend with its CVaR")
    cvar_alpha: float = Field(default=0.95, ge=0, lt=1,
                              description="CVaR level: the mean of the worst 1 - alpha share")
    cvar_weight: float = Field(default=0.5, ge=0, le=1,
                               description="weight of the CVaR in the recourse term")
    file: str | None = Field(
        default=None, description="a scenarios.csv to use instead of the case folder's, "
        "relative to the model file")


class ChainOptions(BaseModel):
    """Where the chain's inputs.csv is (``[chain]``, README, The stack as a chain)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = Field(
        default=None, description="an inputs.csv to use instead of the case folder's, "
        "relative to the model file")


class MarketOptions(BaseModel):
    """Where the markets.csv is (``[markets]``, README, Markets outside the coalition)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = Field(
        default=None, description="a markets.csv to use instead of the case folder's, "
        "relative to the model file")


class PathwayOptions(BaseModel):
    """Where a pathway's periods.csv and targets.csv are (``[pathway]``, README, Pathways)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    periods: str | None = Field(
        default=None, description="a periods.csv, relative to the model file")
    targets: str | None = Field(
        default=None, description="a targets.csv, relative to the model file")


class ShareOptions(BaseModel):
    """The defaults of ``coalition share`` (``[share]``, README, Sharing the cost).

    The keys are the command's options (the command line wins), and ``shortage_cost``:
    the game's price of what a group cannot supply when ``[objective]`` (or ``--set
    objective.shortage_cost``) sets none, so that it does not soften every other run of
    the model file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    players: Literal["member", "bloc"] = Field(
        default="member", description="the players: each member, or each bloc of members")
    exact_up_to: int = Field(default=12, ge=1, description="evaluate every group up to this "
                             "many players; beyond, sample orders")
    samples: int = Field(default=200, ge=2, description="random orders for the sampled "
                         "Shapley value")
    seed: int = Field(default=0, ge=0, le=2**32 - 1,
                      description="seed of the random orders")
    shortage_cost: float | None = Field(
        default=None, ge=0, le=1e15, allow_inf_nan=False,
        description="objective.shortage_cost of the game when [objective] sets none")


class SensitivityOptions(BaseModel):
    """The defaults of ``coalition sensitivity`` (``[sensitivity]``, README, Global sensitivity)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    params: list[str] = Field(default_factory=list,
                              description="KEY=LOW:HIGH (or KEY*=LOW:HIGH) entries")
    method: Literal["morris", "sobol"] = Field(default="morris",
                                               description="morris or sobol")
    samples: int = Field(default=20, ge=2, le=100_000, description="Morris trajectories, or "
                         "Sobol base points")
    outputs: list[str] = Field(default_factory=list, description="metrics measured besides "
                               "the costs: share[P,L], participation[P], ...")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="seed of the sampling")


class ModelFile(BaseModel):
    """The contents of a ``models/*.toml`` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    case: str
    unit: str | None = Field(default=None, max_length=80,
                             description="the unit of costs and quantities, shown on every "
                                         "chart and table (\"USD bn a year\"); none by "
                                         "default")
    set: dict[str, Any] = Field(default_factory=dict)
    objective: ObjectiveOptions = Field(default_factory=ObjectiveOptions)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    sweep: SweepOptions = Field(default_factory=SweepOptions)
    scenarios: ScenarioOptions = Field(default_factory=ScenarioOptions)
    share: ShareOptions = Field(default_factory=ShareOptions)
    chain: ChainOptions = Field(default_factory=ChainOptions)
    markets: MarketOptions = Field(default_factory=MarketOptions)
    sensitivity: SensitivityOptions = Field(default_factory=SensitivityOptions)
    pathway: PathwayOptions = Field(default_factory=PathwayOptions)
