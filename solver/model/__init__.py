"""The Pyomo formulation of SPEC section 3: :func:`build` turns a case into a model."""

from solver.model.build import Built, build

__all__ = ["Built", "build"]
