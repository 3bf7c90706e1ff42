"""The engine every study drives.

The re-routing LP, the executor (this process, local workers, Dask), the scheduler address,
and the progress of a study and of its solves.
"""
