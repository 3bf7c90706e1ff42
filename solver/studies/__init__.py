"""Many solves on one engine: sweeps, stress tests, frontiers (workers, Dask, resume)."""
