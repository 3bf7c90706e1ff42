"""The ``coalition`` command line: thin click commands over the library.

Every command parses its arguments, calls one library function, prints, and exits with the
code of README, Commands. Errors are one clear message; ``--debug`` shows the traceback.
Heavy imports (Pyomo, pandas) happen inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import logging
import sys

import click

from solver.cli import alternatives as alternatives_cli
from solver.cli import desk, generate, run, studies
from solver.cli import sensitivity as sensitivity_cli
from solver.cli import share as share_cli
from solver.cli.common import State
from solver.signals import stop_signals


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True,
              help="-v: HiGHS's log (instead of the progress line) and info messages; "
                   "-vv: debug messages.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="coalition", prog_name="coalition")
def main(verbose: int, quiet: bool, debug: bool) -> None:
    """Design coalition supply chains: who co-produces each layer of the technology stack.

    A case is a folder of CSV files (partners, layers, capabilities, demand, trade), one
    .xlsx workbook with a sheet per table, or a model file (models/*.toml) naming one.
    Exit codes: 0 solved, 1 internal error, 2 bad input or usage, 3 infeasible, 4 no
    feasible plan within the limits, 5 verification failed.
    """
    State.debug, State.verbose, State.quiet = debug, verbose, quiet
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    # -vv is this tool's debug log, not Pyomo's, which prints every component it builds.
    logging.getLogger("pyomo").setLevel(max(level, logging.INFO))
    click.get_current_context().with_resource(stop_signals())


for _command in (run.solve, run.validate, run.explain, run.check, studies.sweep, studies.stress,
                 studies.frontier, generate.generate, desk.compare,
                 desk.export, desk.report, share_cli.share,
                 alternatives_cli.alternatives, sensitivity_cli.sensitivity):
    main.add_command(_command)
