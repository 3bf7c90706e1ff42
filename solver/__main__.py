"""``python -m solver`` runs the ``coalition`` command line."""

from solver.cli import main

main(prog_name="coalition")
