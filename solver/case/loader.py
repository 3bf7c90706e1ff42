"""A case: the validated tables of a case folder plus the options of a run.

:func:`load_case` reads a case folder or a model file (``models/*.toml``, README, The case format);
:meth:`Case.with_overrides` applies ``--set`` style overrides and re-validates.
"""

from __future__ import annotations

import difflib
import hashlib
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from solver.case.files import FileRefused, is_present, read_capped
from solver.case.options import (
    ModelFile,
    ObjectiveOptions,
    ScenarioOptions,
    SensitivityOptions,
    ShareOptions,
    SolverOptions,
    SweepOptions,
)
from solver.case.override_rows import (
    IdCache,
    Writers,
    named_rows,
    names_nothing,
    new_route,
    write_rows,
)
from solver.case.overrides import Override, OverrideError, make_override, parse_assignment
from solver.case.schema import COALITION, TABLES
from solver.case.table_files import with_table_file
from solver.case.tables import COPY_ON_WRITE, LINE, check_range, read_table
from solver.case.validate import cross_checks
from solver.case.workbook import Book, is_workbook, read_workbook
from solver.errors import CaseError, Problem, UsageError

#: A model file names a case and a few options: anything larger is not one.
MAX_MODEL_FILE_BYTES = 1024**2


@dataclass(frozen=True)
class Case:
    """A validated case and the options a run of it uses.

    The tables are pandas DataFrames typed and defaulted as :mod:`solver.case.schema` says.
    ``demand`` always holds one row per (consumer, layer): without demand.csv the single
    consumer ``coalition`` carries ``layers.demand``.
    """

    name: str
    path: Path
    partners: pd.DataFrame
    layers: pd.DataFrame
    capabilities: pd.DataFrame
    trade: pd.DataFrame
    demand_table: pd.DataFrame | None
    objective: ObjectiveOptions = field(default_factory=ObjectiveOptions)
    solver: SolverOptions = field(default_factory=SolverOptions)
    sweep: SweepOptions = field(default_factory=SweepOptions)
    files_sha256: str = ""
    overrides: tuple[str, ...] = ()
    load_seconds: float = field(default=0.0, compare=False)
    """Wall time :func:`load_case` took to read and validate the case."""
    scenarios: pd.DataFrame | None = None
    """scenarios.csv (README, Shocks), or None: the disruptions a design is measured against."""
    scenario_options: ScenarioOptions = field(default_factory=ScenarioOptions)
    """``[scenarios]`` of the model file: whether and how the design weathers the scenarios."""
    share_options: ShareOptions = field(default_factory=ShareOptions)
    """``[share]`` of the model file: the defaults of ``coalition share``."""
    inputs: pd.DataFrame | None = None
    """inputs.csv (README, The stack as a chain), or None: the layers each layer consumes."""
    markets: pd.DataFrame | None = None
    """markets.csv (README, Markets outside the coalition), or None: members only."""
    periods: pd.DataFrame | None = None
    """periods.csv (README, Pathways), or None: the case is one period."""
    targets: pd.DataFrame | None = None
    """targets.csv (README, Pathways), or None: per-period overrides."""
    period_group: Any = None
    """A group of the coalition game on a pathway, or None: a callable ``Case -> Case``
    that :func:`solver.case.periods.period_case` applies to each period's case after its
    targets (:mod:`solver.studies.game.pathway_groups`)."""

    @property
    def is_pathway(self) -> bool:
        """Whether the case has periods.csv (README, Pathways)."""
        return self.periods is not None and not self.periods.empty

    @property
    def has_markets(self) -> bool:
        """Whether the case has markets outside the coalition (markets.csv with rows)."""
        return self.markets is not None and not self.markets.empty

    @property
    def has_inputs(self) -> bool:
        """Whether some layer consumes another (inputs.csv with a positive coefficient)."""
        return self.inputs is not None and bool((self.inputs["per_unit"] > 0).any())
    sensitivity_options: SensitivityOptions = field(default_factory=SensitivityOptions)
    """``[sensitivity]`` of the model file: the defaults of ``coalition sensitivity``."""
    unit: str | None = None
    """``unit`` of the model file (``"USD bn a year"``): what every chart and table names
    costs and quantities in; None says nothing."""

    def __repr__(self) -> str:
        return (f"Case({self.name!r}, {len(self.partners)} partners, {len(self.layers)} "
                f"layers, {len(self.capabilities)} capabilities, {len(self.demand)} demand "
                f"rows, {len(self.trade)} trade rows"
                + (f", overrides {list(self.overrides)}" if self.overrides else "") + ")")

    @property
    def has_demand_file(self) -> bool:
        """Whether the case gives per-member demand (demand.csv)."""
        return self.demand_table is not None

    @cached_property
    def demand(self) -> pd.DataFrame:
        """Demand per (member, layer), with ``coalition`` as the consumer if no demand.csv."""
        if self.demand_table is not None:
            return self.demand_table
        layers = self.layers
        return pd.DataFrame({
            "member": COALITION,
            "layer": layers["layer"].to_numpy(),
            "demand": layers["demand"].fillna(0.0).to_numpy(dtype=float),
            "max_dependency": 1.0,
            "min_domestic": 0.0,
        })

    @property
    def sha256(self) -> str:
        """A fingerprint of the input files and the overrides applied to them."""
        h = hashlib.sha256(self.files_sha256.encode())
        for o in self.overrides:
            h.update(b"\0" + o.encode())
        # A rate of 0 (the default) leaves the fingerprint of a case made before it existed.
        unused = {"discount_rate"} if self.objective.discount_rate == 0 else None
        h.update(self.objective.model_dump_json(exclude=unused).encode())
        if self.scenario_options.design != "none":
            h.update(self.scenario_options.model_dump_json().encode())
        return h.hexdigest()

    def table(self, name: str) -> pd.DataFrame | None:
        """A case table by its file name stem (``partners``, ``demand``, ...)."""
        if name == "demand":
            return self.demand_table
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def with_overrides(
        self, overrides: Mapping[str, Any] | Iterable[str | Override], source: str = "--set",
        where: Sequence[Problem] | None = None,
    ) -> Case:
        """A copy of the case with overrides applied, re-validated.

        ``overrides`` is a mapping ``{key: value}`` (a key ending in ``*`` multiplies:
        ``{"capabilities[TW,*].unit_cost*": 4}``) or a list of ``"KEY=VALUE"`` /
        ``"KEY*=FACTOR"`` strings. A key that names nothing raises :class:`CaseError`.
        Each problem names ``source``, or with ``where`` (one per override, in order) the
        place its override came from (``--set 2``, a model file's line); a value out of
        range names the last override that wrote it.
        """
        parsed: list[Override] = []
        problems: list[Problem] = []
        items: list[Any]
        if isinstance(overrides, Mapping):
            items = [(str(k), v) for k, v in overrides.items()]
        else:
            items = list(overrides)
        places = list(where) if where is not None else [Problem(source, "")] * len(items)
        if len(places) != len(items):
            raise ValueError("where: one place per override")
        for item, place in zip(items, places, strict=True):
            try:
                if isinstance(item, Override):
                    parsed.append(item)
                elif isinstance(item, tuple):
                    key, value = item
                    if key.endswith("*"):
                        parsed.append(make_override(key[:-1].strip(), "*=", value))
                    else:
                        parsed.append(make_override(key, "=", value))
                else:
                    parsed.append(parse_assignment(str(item)))
            except OverrideError as exc:
                problems.append(replace(place, message=str(exc)))
        if problems:
            raise CaseError(problems)
        return apply_overrides(self, parsed, source, where=places)


def apply_overrides(case: Case, overrides: list[Override], source: str,
                    where: Sequence[Problem] | None = None) -> Case:
    """Apply parsed overrides in order; raise :class:`CaseError` naming each bad one.

    A problem names the place of its override (``where``, one per override) or ``source``.
    """
    tables = {name: case.table(name) for name in TABLES}
    tables = {k: (v if v is None else v.copy(deep=not COPY_ON_WRITE)) for k, v in tables.items()}
    objective = case.objective.model_dump()
    solver = case.solver.model_dump()
    problems: list[Problem] = []
    places = list(where) if where is not None else [Problem(source, "")] * len(overrides)
    wrote = Writers()
    ids: IdCache = {}
    for o, place in zip(overrides, places, strict=True):
        if o.table in ("objective", "solver"):
            opts = objective if o.table == "objective" else solver
            wrote.note(o.table, o.column, None, place)
            if o.op == "=":
                opts[o.column] = o.value
            elif opts[o.column] is None:
                problems.append(replace(place, message=f"{o.key} is not set, so it cannot be "
                                                       "multiplied"))
            else:
                opts[o.column] = opts[o.column] * o.value
            continue
        frame = tables[o.table]
        route = new_route(case, o)
        mask = named_rows(o, frame, ids) if frame is not None else None
        if route is not None and frame is not None and mask is not None and not mask.any():
            frame = tables[o.table] = pd.concat([frame, pd.DataFrame([route])],
                                                ignore_index=True).astype(frame.dtypes)
            mask = named_rows(o, frame, ids)
            wrote.grown.add(o.table)
        unnamed = names_nothing(case, o, frame, mask)
        if unnamed:
            problems.append(replace(place, message=unnamed))
            continue
        assert frame is not None and mask is not None
        wrote.note(o.table, o.column, mask, place)
        message = write_rows(frame, o, mask)
        if message is not None:
            problems.append(replace(place, message=message))
    if problems:
        raise CaseError(problems)
    try:
        obj = ObjectiveOptions(**objective)
        sol = SolverOptions(**solver)
    except ValidationError as exc:
        field_name = str(exc.errors()[0]["loc"][0]) if exc.errors() else ""
        table = "objective" if exc.title == ObjectiveOptions.__name__ else "solver"
        at = wrote.last(table, field_name, None) or Problem(source, "")
        problems.append(replace(at, message=_pydantic_message(exc)))
        obj, sol = case.objective, case.solver  # the problem is raised with the others
    written = wrote.written()  # the case was valid before: only this is checked again
    for name, spec in TABLES.items():
        frame = tables[name]
        if frame is not None:
            problems.extend(check_range(frame, spec, source, wrote.at(name), written))
    new = replace(
        case,
        partners=_present(tables["partners"]),
        layers=_present(tables["layers"]),
        capabilities=_present(tables["capabilities"]),
        trade=_present(tables["trade"]),
        demand_table=tables["demand"],
        scenarios=tables["scenarios"],
        inputs=tables["inputs"],
        markets=tables["markets"],
        periods=tables["periods"],
        targets=tables["targets"],
        objective=obj,
        solver=sol,
        overrides=case.overrides + tuple(str(o) for o in overrides),
    )
    new.__dict__.pop("demand", None)
    if not problems:  # what a bad value breaks across tables is not news
        book = case.path.name if is_workbook(case.path) else None
        problems = [wrote.blame(p, book) for p in cross_checks(new, written=written)]
    if problems:
        if is_workbook(case.path):
            problems = Book(name=case.path.name, frames={}, problems=[], digest="",
                            sheets={t: t for t in TABLES}).relabel(problems)
        raise CaseError(problems)
    return new


def _present(frame: pd.DataFrame | None) -> pd.DataFrame:
    assert frame is not None
    return frame


def _pydantic_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _empty_trade() -> pd.DataFrame:
    return pd.DataFrame({
        "exporter": pd.Series([], dtype=object),
        "importer": pd.Series([], dtype=object),
        "layer": pd.Series([], dtype=object),
        "unit_cost": pd.Series([], dtype=float),
        "allowed": pd.Series([], dtype=bool),
    })


def read_case_folder(folder: Path) -> tuple[dict[str, pd.DataFrame | None], list[Problem], str]:
    """Read every table of a case folder; return frames (with line numbers), problems, hash."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame | None] = {}
    digest = hashlib.sha256()
    for name, spec in TABLES.items():
        path = folder / spec.filename
        if not is_present(path):
            if spec.required:
                problems.append(Problem(spec.filename, f"required file is missing from {folder}"))
            frames[name] = None
            continue
        frame, found = read_table(path, spec, digest)
        problems.extend(found)
        frames[name] = frame
    for extra in sorted(folder.glob("*.csv")):
        if extra.stem not in TABLES:
            names = [s.filename for s in TABLES.values()]
            hint = difflib.get_close_matches(extra.name, names, n=1)
            problems.append(Problem(extra.name, "not a case file"
                                    + (f"; did you mean {hint[0]}?" if hint else "")
                                    + f" (case files: {', '.join(names)})"))
    return frames, problems, digest.hexdigest()


def load_case(path: str | Path, *, allow_outside: bool = False) -> Case:
    """Load a case folder or a model file and validate it.

    A model file's case path is relative to the file and may not leave the folder that
    holds the model file's folder (no absolute paths) unless ``allow_outside`` is true.
    Raises :class:`CaseError` listing every problem found.
    """
    start = time.perf_counter()
    path = Path(path)
    if path.is_dir():
        case = _load_folder(path, name=path.name)
    elif is_workbook(path) and is_present(path):
        case = _load_folder(path, name=path.stem)
    elif path.suffix == ".toml" and is_present(path):
        case = _load_model_file(path, allow_outside=allow_outside)
    elif not path.exists():
        raise UsageError(f"{path}: no such case folder or model file")
    else:
        raise UsageError(f"{path}: not a case folder, an .xlsx workbook or a .toml model file")
    return replace(case, load_seconds=time.perf_counter() - start)


def _load_folder(folder: Path, name: str) -> Case:
    relabel: Any = list
    if is_workbook(folder):
        book = read_workbook(folder)
        frames, problems, digest, relabel = book.frames, book.problems, book.digest, book.relabel
        present = set(book.sheets)
    else:
        frames, problems, digest = read_case_folder(folder)
        present = {n for n, spec in TABLES.items() if (folder / spec.filename).exists()}
    unreadable = [n for n, spec in TABLES.items()
                  if frames[n] is None and (spec.required or n in present)]
    if unreadable:
        raise CaseError(relabel(problems))
    strip = {n: (f.drop(columns=[LINE]) if f is not None else None) for n, f in frames.items()}
    case = Case(
        name=name,
        path=folder,
        partners=strip["partners"],  # type: ignore[arg-type]
        layers=strip["layers"],  # type: ignore[arg-type]
        capabilities=strip["capabilities"],  # type: ignore[arg-type]
        trade=strip["trade"] if strip["trade"] is not None else _empty_trade(),
        demand_table=strip["demand"],
        scenarios=strip["scenarios"],
        inputs=strip["inputs"],
        markets=strip["markets"],
        periods=strip["periods"],
        targets=strip["targets"],
        files_sha256=digest,
    )
    # Cells that failed are defaulted, so the checks across tables still run: one pass
    # lists every problem.
    crossed = cross_checks(case, lines={n: f[LINE] for n, f in frames.items() if f is not None})
    problems += _without_follow_ons(crossed, problems, frames)
    if not problems:
        from solver.case.periods import target_problems

        targets = frames["targets"]
        problems = target_problems(case, None if targets is None else targets[LINE].tolist())
    if problems:
        raise CaseError(relabel(problems))
    return case


def _without_follow_ons(crossed: list[Problem], found: list[Problem],
                        frames: dict[str, pd.DataFrame | None]) -> list[Problem]:
    """``crossed`` less the problems that only follow from a bad cell already reported.

    A partner (or layer) whose own row has a bad cell (``member = maybe``) took a default;
    what other tables then say about that id (nine demand rows "for a non-member") is not
    news. Problems in the id's own table are kept.
    """
    doubtful: set[str] = set()
    own_files: set[str] = set()
    for name, key in (("partners", "partner"), ("layers", "layer")):
        frame, filename = frames.get(name), TABLES[name].filename
        if frame is None:
            continue
        bad_lines = {p.line for p in found if p.file == filename and p.line is not None}
        if bad_lines:
            doubtful |= set(frame.loc[frame[LINE].isin(bad_lines), key].astype(str))
            own_files.add(filename)
    return [p for p in crossed if p.value not in doubtful or p.file in own_files]


def read_model_file(path: Path) -> ModelFile:
    """Parse a model file (TOML); raise :class:`CaseError` naming what is wrong."""
    return _parse_model_file(path, _model_file_text(path))


def _model_file_text(path: Path) -> str:
    try:
        raw = read_capped(path, MAX_MODEL_FILE_BYTES, "a model file")
    except FileRefused as exc:
        raise CaseError([Problem(path.name, f"the file {exc}")]) from None
    except OSError as exc:
        raise CaseError([Problem(path.name, f"cannot read the file: {exc.strerror or exc}")]) \
            from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaseError([Problem(path.name, "not UTF-8 text")]) from None


def _parse_model_file(path: Path, text: str) -> ModelFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError([Problem(path.name, f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise CaseError([Problem(path.name, "not valid TOML: nested too deeply")]) from None
    try:
        return ModelFile(**data)
    except ValidationError as exc:
        raise CaseError([Problem(path.name, _pydantic_message(exc))]) from None


def _load_model_file(path: Path, allow_outside: bool) -> Case:
    text = _model_file_text(path)
    spec = _parse_model_file(path, text)
    case_path = Path(spec.case)
    if not allow_outside:
        root = path.resolve().parent.parent
        if case_path.is_absolute():
            raise CaseError([Problem(path.name, f"case = {spec.case!r}: an absolute path is "
                                     "not allowed in a model file; pass the folder on the "
                                     "command line instead")])
        resolved = (path.resolve().parent / case_path).resolve()
        if not resolved.is_relative_to(root):
            raise CaseError([Problem(path.name, f"case = {spec.case!r} leaves the project "
                                     f"folder {root.name!r}; pass the folder on the command "
                                     "line instead")])
    folder = path.parent / case_path
    if not folder.is_dir() and not (is_workbook(folder) and folder.is_file()):
        raise CaseError([Problem(path.name, f"case = {spec.case!r}: no such case folder "
                                            "or workbook")])
    case = _load_folder(folder, name=spec.name or path.stem)
    case = replace(case, objective=spec.objective, solver=spec.solver, sweep=spec.sweep,
                   scenario_options=spec.scenarios, share_options=spec.share,
                   sensitivity_options=spec.sensitivity,
                   unit=spec.unit.strip() or None if spec.unit else None)
    if spec.scenarios.file:
        case = with_table_file(case, path, "scenarios", spec.scenarios.file, allow_outside)
    if spec.chain.file:
        case = with_table_file(case, path, "inputs", spec.chain.file, allow_outside)
    if spec.markets.file:
        case = with_table_file(case, path, "markets", spec.markets.file, allow_outside)
    for table in ("periods", "targets"):
        file = getattr(spec.pathway, table)
        if file:
            case = with_table_file(case, path, table, file, allow_outside)
    if spec.set:
        from solver.case.override_sources import flat_keys, model_file_places

        keys = flat_keys(spec.set)
        case = case.with_overrides(keys, source=f"{path.name} [set]",
                                   where=model_file_places(path.name, text, keys))
    if spec.pathway.periods or spec.pathway.targets:
        from solver.case.periods import target_problems

        problems = target_problems(case)
        if problems:
            raise CaseError(problems)
    return case


def case_frames_equal(a: Case, b: Case) -> bool:
    """Whether two cases have the same tables (used by tests and sweeps)."""
    return all(
        (x is None and y is None) or (x is not None and y is not None and x.equals(y))
        for x, y in ((a.table(n), b.table(n)) for n in TABLES)
    )
