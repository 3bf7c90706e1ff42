"""Global sensitivity (README, Global sensitivity): which assumptions move the answer.

``params`` (the ``--param KEY=LOW:HIGH`` ranges), ``methods`` (Morris and Sobol sampling and
analysis, by SALib), ``outputs`` (what is measured of each plan) and ``study`` (the driver on
the engine of every study).
"""
