"""Many solves on one engine: ``engine/`` and one package per study.

``sweep/`` (sweep, frontier, grid), ``shocks/`` (stress, Monte Carlo), ``game/`` (share) and
``alternatives/``.
"""
