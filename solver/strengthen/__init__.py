"""A stronger solve: Lagrangian bound, reduced-cost fixing and strong rows before HiGHS.

The room of ``solve --strengthen auto|on|off`` (README, Performance). The demand rows are
relaxed with multipliers; what is left falls apart into one small problem per hosting
decision (:mod:`~solver.strengthen.hosts`, :mod:`~solver.strengthen.lagrangian`). The bound
and a plan of the whole problem (:mod:`~solver.strengthen.primal`) close the hosting
decisions no optimal plan can take (:mod:`~solver.strengthen.fixing`); the strong linking
rows go in where the relaxation needs them (:mod:`~solver.strengthen.rows`), and HiGHS
solves what is left from the plan (:mod:`~solver.strengthen.run`).
"""

from solver.strengthen.run import MODES, Strengthening, strengthen

__all__ = ["MODES", "Strengthening", "strengthen"]
