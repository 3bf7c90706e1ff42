"""The ``coalition`` command line: thin click commands over the library.

Every command parses its arguments, calls one library function, prints, and exits with the
code of README, Commands. Errors are one clear message; ``--debug`` shows the traceback.
Heavy imports (Pyomo, pandas) happen inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import click

from solver.cli import alternatives as alternatives_cli
from solver.cli import desk, generate, run, studies
from solver.cli import sensitivity as sensitivity_cli
from solver.cli import share as share_cli
from solver.cli.common import Coalition, flag_options, set_flags, take_flags
from solver.signals import stop_signals


@click.group(cls=Coalition, context_settings={"help_option_names": ["-h", "--help"]})
@flag_options
@click.version_option(package_name="coalition", prog_name="coalition")
def main(verbose: int, quiet: bool, debug: bool) -> None:
    """Design coalition supply chains: who co-produces each layer of the technology stack.

    A case is a folder of CSV files (partners, layers, capabilities, demand, trade), one
    .xlsx workbook with a sheet per table, or a model file (models/*.toml) naming one.
    -v, -q and --debug may also follow the command (coalition solve PATH -q).
    Exit codes: 0 solved, 1 internal error, 2 bad input or usage, 3 infeasible, 4 no
    feasible plan within the limits, 5 verification failed.
    """
    set_flags(verbose, quiet, debug)
    click.get_current_context().with_resource(stop_signals())


for _command in (run.solve, run.validate, run.explain, run.check, studies.sweep, studies.stress,
                 studies.frontier, generate.generate, desk.compare,
                 desk.export, desk.report, share_cli.share,
                 alternatives_cli.alternatives, sensitivity_cli.sensitivity):
    main.add_command(take_flags(_command))
