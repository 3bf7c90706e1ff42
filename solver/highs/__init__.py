"""HiGHS: compiling the Pyomo model to its matrices, running it, re-solving in place."""
