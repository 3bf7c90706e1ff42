"""``make bench``: how much the tool costs around HiGHS, by stage, at three sizes.

Not part of ``make test``: no module here is named ``test_*``, so pytest collects none.
Run ``python -m tests.bench`` (or ``make bench``); see :mod:`tests.bench.run`.
"""
