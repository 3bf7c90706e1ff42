"""``python -m tests.bench``: run the bench (see :mod:`tests.bench.run`)."""

from tests.bench.run import main

main()
