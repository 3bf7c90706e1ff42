"""The ``coalition`` command line: thin click commands over the library.

Every command parses its arguments, calls one library function, prints, and exits with the
code of SPEC section 6. Errors are one clear message; ``--debug`` shows the traceback.
Heavy imports (Pyomo, pandas) happen inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from solver.case import Case
    from solver.results import Result

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_UNVERIFIED = range(6)
EXIT_BROKEN_PIPE = 128 + 13  # killed by SIGPIPE, as a shell would say


class State:
    """Options of the ``coalition`` group that every command sees."""

    debug = False
    verbose = 0
    quiet = False


def _echo(text: str = "", err: bool = False) -> None:
    if err or not State.quiet:
        click.echo(text, err=err)


def handle_errors(func: F) -> F:
    """Turn library errors into one message and the SPEC's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from solver.errors import CoalitionError

        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except CoalitionError as exc:
            if State.debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (``coalition solve ... | head``). Files are written
            # before anything is printed, so stop quietly, as a shell reports SIGPIPE.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            if State.debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} "
                       "(run with --debug for the traceback)", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def case_argument(func: F) -> F:
    """The PATH argument: a case folder or a model file."""
    return click.argument("path", type=click.Path(exists=True, path_type=Path))(func)


def set_option(func: F) -> F:
    """``--set KEY=VALUE`` overrides, repeatable."""
    return click.option(
        "--set", "overrides", multiple=True, metavar="KEY=VALUE",
        help="Override a case value: TABLE.COLUMN, TABLE[KEY].COLUMN (two parts for "
             "capabilities, demand, trade; * is a wildcard), objective.NAME or solver.NAME. "
             "KEY*=FACTOR multiplies. Repeatable.")(func)


def solver_options(func: F) -> F:
    """``--time-limit``, ``--mip-gap`` and ``--threads``."""
    func = click.option("--threads", type=click.IntRange(min=1), default=None,
                        help="HiGHS threads (default: the model file's, else 1).")(func)
    func = click.option("--mip-gap", type=click.FloatRange(min=0), default=None,
                        help="Relative MIP gap at which HiGHS stops (default 1e-4).")(func)
    return click.option("--time-limit", type=click.FloatRange(min=0, min_open=True),
                        default=None, metavar="SECONDS",
                        help="Stop HiGHS after this many seconds and keep the best plan "
                             "found (default: no limit).")(func)


def load(path: Path, overrides: tuple[str, ...] = ()) -> Case:
    """Load a case folder or model file and apply ``--set`` overrides."""
    from solver.case import load_case

    case = load_case(path)
    if overrides:
        case = case.with_overrides(list(overrides), source="--set")
    return case


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Show progress; -v also shows HiGHS's log.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="coalition", prog_name="coalition")
def main(verbose: int, quiet: bool, debug: bool) -> None:
    """Design coalition supply chains: who co-produces each layer of the technology stack.

    A case is a folder of CSV files (partners, layers, capabilities, demand, trade) or a
    model file (models/*.toml) naming one. Exit codes: 0 solved, 1 internal error, 2 bad
    input or usage, 3 infeasible, 4 no feasible plan within the limits, 5 verification
    failed.
    """
    State.debug, State.verbose, State.quiet = debug, verbose, quiet
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


@main.command()
@case_argument
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder to write (default: out/NAME-YYYYmmdd-HHMMSS, NAME from PATH).")
@click.option("--force", is_flag=True, help="Replace the run folder if it exists.")
@set_option
@solver_options
@handle_errors
def solve(path: Path, out: Path | None, force: bool, overrides: tuple[str, ...],
          time_limit: float | None, mip_gap: float | None, threads: int | None) -> None:
    """Solve a case and write its run folder (allocation, flows, layers, partners, summary).

    \b
    Example:
      coalition solve models/allied-ai-stack.toml --out out/baseline
      coalition solve data/allied-ai-stack --set layers.max_share=0.4 --time-limit 60
    """
    from solver.results import check_out
    from solver.solve import solve as solve_case

    case = load(path, overrides)
    if out is None:
        out = Path("out") / f"{path.stem}-{datetime.now():%Y%m%d-%H%M%S}"
    check_out(out, force=force)
    from solver.errors import VerificationError

    try:
        result = solve_case(case, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                            tee=State.verbose > 0)
    except VerificationError as exc:
        if exc.result is None:
            raise
        result = exc.result  # written all the same, marked verified: false, then exit 5
    written = result.write(out, force=force)
    _echo(format_summary(case, result))
    _echo(f"written: {written}")
    if not result.verified:
        click.echo("error: the independent checker rejected the plan:", err=True)
        for v in result.violations[:20]:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)


def format_summary(case: Case, result: Result) -> str:
    """The short human summary ``coalition solve`` prints."""
    lines = [f"case {case.name}: {result.status}"]
    if result.objective is not None:
        gap = f", gap {result.gap:.2e}" if result.gap is not None else ""
        lines.append(f"total cost {result.objective:,.4g}{gap}")
        parts = ", ".join(f"{k} {v:,.4g}" for k, v in result.costs.items() if v)
        lines.append(f"  {parts}" if parts else "  (no cost)")
    lines.append("")
    header = f"{'layer':<24}{'demand':>12}{'suppliers':>10}{'max share':>10}{'HHI':>7}" \
             f"{'N-1':>7}"
    lines.append(header)
    for row in result.layers.to_dict("records"):
        n1 = "-" if math.isnan(row["n1_coverage"]) else f"{row['n1_coverage']:.2f}"
        lines.append(f"{row['layer']!s:<24}{row['demand']:>12,.4g}{row['suppliers']:>10}"
                     f"{row['max_share']:>10.2f}{row['hhi']:>7.2f}{n1:>7}")
    lines.append(f"verified: {'yes' if result.verified else 'NO'}")
    return "\n".join(lines)


@main.command()
@case_argument
@set_option
@handle_errors
def validate(path: Path, overrides: tuple[str, ...]) -> None:
    """Check a case's inputs without solving; list every problem found.

    Reads every file against its columns (types, ranges, ids, duplicates), then the tables
    against each other, then looks for requirements that provably cannot hold (a layer's
    demand above its trusted partners' capacity, fewer eligible partners than
    min_suppliers, ...). Runs no solver.

    Exit codes: 0 the inputs are valid and no obvious infeasibility was found; 2 bad
    input, every problem listed with file, line, column and value; 3 the inputs are valid
    but the case cannot be feasible (with the numbers).
    """
    from solver.errors import CaseError
    from solver.presolve import find_infeasibilities

    try:
        case = load(path, overrides)
    except CaseError as exc:
        n = len(exc.problems)
        click.echo(f"{path}: {n} problem{'s' if n != 1 else ''}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_INPUT)
    found = find_infeasibilities(case)
    if found:
        click.echo(f"{case.name}: the inputs are valid, but the case cannot be feasible:",
                   err=True)
        for item in found:
            click.echo(f"  {item}", err=True)
        sys.exit(EXIT_INFEASIBLE)
    _echo(f"{case.name}: valid ({len(case.partners)} partners, {len(case.layers)} layers, "
          f"{len(case.capabilities)} capabilities, {len(case.demand)} demand rows, "
          f"{len(case.trade)} trade rows)")


@main.command()
@case_argument
@set_option
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Limit on each of the explanation's solves "
              "(default: the model file's, else 120 s).")
@handle_errors
def explain(path: Path, overrides: tuple[str, ...], time_limit: float | None) -> None:
    """Explain why a case is infeasible: the fewest requirements that must give way.

    Solves an elastic version of the model in which every requirement may be violated at
    a price, finds the smallest set of rows that must give way, and reports each in the
    case's terms with the shortfall (e.g. "layer chips: min_suppliers 4 cannot hold; at
    most 3 partners with trust >= 0.8 can supply it (short by 1)").

    Exit codes: 0 the case is feasible, 2 bad input, 3 infeasible (report printed).
    """
    from solver.explain import explain as explain_case

    case = load(path, overrides)
    if time_limit is not None:
        case = replace(case, solver=case.solver.model_copy(update={"time_limit": time_limit}))
    report = explain_case(case)
    if report.feasible:
        _echo(str(report))
        return
    click.echo(f"case {case.name!r} is infeasible:\n{report}")
    sys.exit(EXIT_INFEASIBLE)


@main.command()
@case_argument
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@set_option
@handle_errors
def check(path: Path, result_dir: Path, overrides: tuple[str, ...]) -> None:
    """Re-verify a written run folder against its case, independently of the model code.

    Exit 5 and name each violated constraint, entity and amount if the plan is wrong.
    """
    from solver.check import check_run, provenance_note

    case = load(path, overrides)
    violations = check_run(case, result_dir)
    note = provenance_note(case, result_dir)
    if note:
        click.echo(note, err=True)
    if violations:
        click.echo(f"{result_dir}: {len(violations)} violation(s):", err=True)
        for v in violations:
            click.echo(f"  {v}", err=True)
        sys.exit(EXIT_UNVERIFIED)
    _echo(f"{result_dir}: verified against {case.name}")


# ---------------------------------------------------------------- sweep, stress, frontier


def _default_out(path: Path, what: str) -> Path:
    return Path("out") / f"{path.stem}-{what}-{datetime.now():%Y%m%d-%H%M%S}"


def _with_solver_options(case: Case, time_limit: float | None, mip_gap: float | None,
                         threads: int | None) -> Case:
    opts = {f"solver.{k}": v for k, v in (("time_limit", time_limit), ("mip_gap", mip_gap),
                                          ("threads", threads)) if v is not None}
    return case.with_overrides(opts, source="command line") if opts else case


def _number(x: Any, fmt: str = ",.6g") -> str:
    try:
        if x is None or math.isnan(float(x)):
            return "-"
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return str(x)


@main.command()
@case_argument
@click.option("--vary", multiple=True, metavar="KEY=SPEC",
              help="A key to vary (override keys as for --set) over SPEC: a:b:step "
                   "(inclusive), v1,v2,..., or KEY*=f1,f2,... for multipliers. Repeatable; "
                   "default: the model file's [sweep] vary.")
@click.option("--mode", type=click.Choice(["grid", "one-at-a-time"]), default=None,
              help="grid: every combination (default); one-at-a-time: the base case and "
                   "each key alone (a tornado chart).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local processes solving points, each with its own persistent model "
                   "(default: the machine's cores; 1 solves in this process).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Send points to the Dask distributed scheduler at ADDRESS "
                   "(tcp://host:8786) instead of local processes. Start its workers with "
                   "--nthreads 1; they need this package installed.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: out/NAME-sweep-YYYYmmdd-HHMMSS).")
@click.option("--resume", is_flag=True,
              help="Continue the sweep in --out: solve only the points not yet done.")
@click.option("--force", is_flag=True, help="Start again in an existing --out folder.")
@click.option("--no-plots", is_flag=True, help="Do not draw the PNG charts.")
@set_option
@solver_options
@handle_errors
def sweep(path: Path, vary: tuple[str, ...], mode: str | None, workers: int | None,
          scheduler: str | None, out: Path | None, resume: bool, force: bool, no_plots: bool,
          overrides: tuple[str, ...], time_limit: float | None, mip_gap: float | None,
          threads: int | None) -> None:
    """Solve a case over a grid of values; write one tidy row per point.

    Points that change only numbers re-solve the same model, warm-started; every finished
    point is written at once (Ctrl-C keeps them; --resume continues).

    \b
    Writes in --out: sweep.csv (one row per point), sweep_layers.csv (per point and
    layer: suppliers, HHI, N-1 coverage), allocations.csv (every point's plan),
    plots/*.png.

    \b
    Example:
      coalition sweep models/allied-ai-stack.toml
      coalition sweep data/allied-ai-stack --vary layers.max_share=0.3:0.6:0.1 \
          --vary "capabilities[TW,*].unit_cost*=1,2,4" --workers 4 --out out/tw
    """
    from solver.progress import progress_for
    from solver.sweep import sweep as run_sweep

    case = _with_solver_options(load(path, overrides), time_limit, mip_gap, threads)
    if resume and out is None:
        raise click.UsageError("--resume needs the --out folder of the sweep to continue")
    out = out or _default_out(path, "sweep")
    progress = None if State.quiet else progress_for(sys.stderr)
    try:
        table = run_sweep(case, list(vary) or None, mode=mode, workers=workers,
                          scheduler=scheduler, out=out, resume=resume, force=force,
                          plots=not no_plots, progress=progress)
    except KeyboardInterrupt:
        done = _count_rows(out / "sweep.csv")
        click.echo(f"interrupted: {done} finished point(s) kept in {out}; run the same "
                   "command with --resume to continue", err=True)
        sys.exit(130)
    _echo(format_sweep(table))
    files = [f for f in ("sweep.csv", "sweep_layers.csv", "allocations.csv")
             if (out / f).exists()]
    if (out / "plots").is_dir() and any((out / "plots").iterdir()):
        files.append("plots/")
    _echo(f"written: {out} ({', '.join(files)})")


def _count_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def format_sweep(table: Any, limit: int = 40) -> str:
    """The table ``coalition sweep`` prints: varied values, status, cost, gap."""
    from solver.point_solver import RESULT_COLUMNS

    keys = [c for c in table.columns if c not in RESULT_COLUMNS and c != "point"]
    failed = int(table["objective"].isna().sum())
    lines = [f"{len(table)} points, {len(table) - failed} with a plan, {failed} without"]
    widths = [max(len(k), 8) + 2 for k in keys]
    head = f"{'point':>5}" + "".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True)) \
        + f"{'status':>12}{'total cost':>14}{'gap':>10}"
    lines.append(head)
    for row in table.head(limit).to_dict("records"):
        values = "".join(f"{_number(row[k], '.6g'):>{w}}"
                         for k, w in zip(keys, widths, strict=True))
        lines.append(f"{row['point']:>5}{values}{row['status']!s:>12}"
                     f"{_number(row['objective']):>14}{_number(row['gap'], '.1e'):>10}")
    if len(table) > limit:
        lines.append(f"... {len(table) - limit} more rows in sweep.csv")
    return "\n".join(lines)


@main.command()
@case_argument
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for stress.csv (default: out/NAME-stress-YYYYmmdd-HHMMSS).")
@click.option("--redesign", is_flag=True,
              help="Also solve a full redesign without each lost partner (one MILP each).")
@click.option("--partner", "partners", multiple=True, metavar="ID",
              help="Lose only this partner (repeatable; default: every partner in turn).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many of the worst cases to print.")
@click.option("--force", is_flag=True, help="Replace stress.csv if --out already has one.")
@set_option
@solver_options
@handle_errors
def stress(path: Path, out: Path | None, redesign: bool, partners: tuple[str, ...], top: int,
           force: bool, overrides: tuple[str, ...], time_limit: float | None,
           mip_gap: float | None, threads: int | None) -> None:
    """Lose each partner in turn from the optimal design and re-route supply.

    The design (what is hosted, the capacity built) is kept; an LP re-routes supply over
    the remaining capacity and allowed routes to serve as much demand as it can. Writes
    stress.csv: per lost partner a total row (unmet demand, cost of re-routing, and with
    --redesign the cost of a new design without it), then one row per layer and per
    member. Prints the worst cases first.

    \b
    Example:
      coalition stress models/allied-ai-stack.toml --redesign --out out/stress
    """
    from solver.stress import stress as run_stress
    from solver.stress import worst_cases

    case = _with_solver_options(load(path, overrides), time_limit, mip_gap, threads)
    out = out or _default_out(path, "stress")
    if (out / "stress.csv").exists() and not force:
        raise click.UsageError(f"{out / 'stress.csv'} already exists; pass --force to replace it")
    table = run_stress(case, redesign=redesign, partners=list(partners) or None, out=out)
    _echo(format_stress(worst_cases(table, top), redesign))
    _echo(f"written: {out / 'stress.csv'}")


def format_stress(worst: Any, redesign: bool) -> str:
    """The worst losses, one line each."""
    lines = ["worst losses first (unmet demand after re-routing the built capacity):"]
    head = f"{'lost':<10}{'hosted':>7}{'unmet':>12}{'unmet %':>9}  {'worst layer':<22}" \
           f"{'layer %':>8}{'re-routing':>12}"
    if redesign:
        head += f"{'redesign':>14}{'extra':>12}"
    lines.append(head)
    for row in worst.to_dict("records"):
        line = (f"{row['lost']!s:<10}{row['layers_hosted']:>7}{_number(row['unmet']):>12}"
                f"{100 * row['unmet_share']:>8.1f}%  {row['worst_layer']!s:<22}"
                f"{100 * row['worst_layer_unmet_share']:>7.1f}%"
                f"{_number(row['rerouting_cost']):>12}")
        if redesign:
            cost = _number(row["redesign_cost"]) if row["redesign_status"] in (
                "optimal", "time_limit") else str(row["redesign_status"])
            line += f"{cost:>14}{_number(row['redesign_extra_cost']):>12}"
        lines.append(line)
    return "\n".join(lines)


@main.command()
@case_argument
@click.option("--trade-off", "key", required=True, metavar="KEY",
              help="The requirement to trade against cost: layers.max_share, "
                   "layers.resilience, layers.min_supplier_share, demand.max_dependency, "
                   "demand.min_domestic, partners.min_participation or "
                   "partners.max_participation, for every row or one "
                   "(layers[semiconductors].max_share).")
@click.option("--points", type=click.IntRange(min=2), default=10, show_default=True,
              help="Points on the curve, from the loose end to the tightest feasible value.")
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=1e-3,
              show_default=True, help="Precision of the bisection for the tightest value.")
@click.option("--from", "loose", type=float, default=None,
              help="Loose end of the curve (default: where the requirement does not bind, "
                   "e.g. max_share 1, resilience 0).")
@click.option("--to", "limit", type=float, default=None,
              help="Tightest value to try (default: the requirement's limit, e.g. "
                   "max_share 0, resilience 1).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for frontier.csv, frontier_search.csv and frontier.png "
                   "(default: out/NAME-frontier-YYYYmmdd-HHMMSS).")
@click.option("--force", is_flag=True, help="Replace frontier.csv if --out already has one.")
@set_option
@solver_options
@handle_errors
def frontier(path: Path, key: str, points: int, tol: float, loose: float | None,
             limit: float | None, out: Path | None, force: bool, overrides: tuple[str, ...],
             time_limit: float | None, mip_gap: float | None, threads: int | None) -> None:
    """Cost against one requirement, from loose to the tightest feasible value.

    The epsilon-constraint method: the requirement is fixed at each value and cost is
    minimised. The tightest feasible value is found first by bisection.

    \b
    Example:
      coalition frontier models/allied-ai-stack.toml --trade-off layers.max_share --points 8
    """
    from solver.frontier import frontier as run_frontier

    case = _with_solver_options(load(path, overrides), time_limit, mip_gap, threads)
    out = out or _default_out(path, "frontier")
    if (out / "frontier.csv").exists() and not force:
        raise click.UsageError(f"{out / 'frontier.csv'} already exists; pass --force to "
                               "replace it")
    curve = run_frontier(case, key, points, tol=tol, loose=loose, limit=limit, out=out)
    tightest = curve[key].iloc[-1]
    _echo(f"{key}: tightest feasible value {tightest:.6g} (bisection to within {tol:g})")
    from solver.frontier import undecided

    unsure = undecided(curve, key)
    if unsure:
        click.echo(f"warning: at {', '.join(f'{v:.6g}' for v in unsure)} a limit stopped HiGHS "
                   "before it found a plan or proved there is none; the bisection took them "
                   "as infeasible, so a tighter value may be feasible (raise --time-limit)",
                   err=True)
    _echo(f"{key:>30}{'status':>12}{'total cost':>14}{'gap':>10}")
    for row in curve.to_dict("records"):
        _echo(f"{row[key]:>30.6g}{row['status']!s:>12}{_number(row['objective']):>14}"
              f"{_number(row['gap'], '.1e'):>10}")
    _echo(f"written: {out} (frontier.csv, frontier_search.csv, frontier.png)")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", type=click.Choice(["S", "M", "L"], case_sensitive=False), default=None,
              help="A named size: S (~10k flow variables), M (~100k) or L (~1M). Explicit "
                   "--partners, --layers and --members override its numbers.")
@click.option("--partners", type=click.IntRange(min=1), default=None,
              help="Number of partners, members included (default: the size's, else 20).")
@click.option("--layers", type=click.IntRange(min=1), default=None,
              help="Number of stack layers (default: the size's, else 6).")
@click.option("--members", type=click.IntRange(min=1), default=None,
              help="Number of coalition members, who carry demand (default: the size's, "
                   "else 8).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same arguments give byte-identical files.")
@click.option("--force", is_flag=True, help="Replace the case files if OUT_DIR has them.")
@handle_errors
def generate(out_dir: Path, size: str | None, partners: int | None, layers: int | None,
             members: int | None, seed: int, force: bool) -> None:
    """Write a synthetic case folder for scale tests, feasible by construction.

    Sparse capabilities, trust tiers, forbidden routes and binding shares, drawn from SEED.

    \b
    Example:
      coalition generate --size M --seed 1 cases/m1
      coalition generate --partners 50 --layers 10 --members 20 --seed 7 cases/small
    """
    from solver.generate import SIZES, Size, generate_case

    base = SIZES[size.upper()] if size else Size(partners=20, layers=6, members=8)
    if not force and out_dir.is_dir() and any(out_dir.glob("*.csv")):
        raise click.UsageError(f"{out_dir} already holds case files; pass --force to "
                               "replace them")
    folder = generate_case(partners or base.partners, layers or base.layers,
                           members or base.members, seed, out_dir)
    _echo(f"written: {folder} ({partners or base.partners} partners, "
          f"{layers or base.layers} layers, {members or base.members} members, seed {seed})")


if __name__ == "__main__":  # pragma: no cover
    main()
