"""Reports of runs and studies: charts."""
