"""Shocks to a design: stress (lose each partner in turn) and Monte Carlo draws."""
