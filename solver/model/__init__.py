"""The Pyomo formulation of README, The model: :func:`build` turns a case into a model."""

from solver.model.build import Built, build

__all__ = ["Built", "build"]
