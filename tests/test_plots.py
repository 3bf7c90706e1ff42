"""The study charts: every series drawn, whole titles, units named, one scale for shares."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver.cli import main
from solver.report.plots import objective_figure, savings_figure

try:
    from tiny import write_case
except ModuleNotFoundError:  # tests/ imported as a package
    from tests.tiny import write_case

LONG_KEY = "capabilities[TW,semiconductors].unit_cost*"


def _inside(fig: Any, artist: Any) -> bool:
    fig.canvas.draw()
    box, page = artist.get_window_extent(), fig.bbox
    return box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1


def _sweep(n_other: int) -> pd.DataFrame:
    rows = []
    for i in range(n_other):
        for x in (0.3, 0.4, 0.5):
            rows.append({"layers.max_share": x, LONG_KEY: float(i + 1),
                         "objective": 900 + 10 * i - 20 * x, "status": "optimal",
                         **{f"cost_{t}": 1.0 for t in ("fixed", "capacity", "trade",
                                                         "redundancy", "risk", "shortage")}})
    return pd.DataFrame(rows)


def test_a_sweep_of_two_keys_draws_every_series_with_whole_titles() -> None:
    fig = objective_figure(_sweep(12), LONG_KEY, ["layers.max_share"], unit="EUR m")
    left, right = fig.axes
    assert len(left.get_lines()) == 3  # every value of the other key, none left out
    fig = objective_figure(_sweep(12), "layers.max_share", [LONG_KEY], unit="EUR m")
    left, right = fig.axes
    assert len(left.get_lines()) == 12
    assert len(left.get_legend().get_texts()) == 12
    assert left.get_ylabel() == "total cost (EUR m)"
    assert _inside(fig, right.title) and _inside(fig, fig._suptitle)
    assert f"at {LONG_KEY}=1" in right.get_title().replace("\n", " ")


def test_the_savings_chart_has_a_title_and_units() -> None:
    players = pd.DataFrame({"player": ["A", "B"], "saving_proportional": [1.0, 2.0],
                            "saving_shapley": [1.5, 1.5], "saving_nucleolus": [None, None]})
    fig = savings_figure(players, unit="USD bn a year")
    ax = fig.axes[0]
    assert ax.get_title() and _inside(fig, ax.title)
    assert ax.get_ylabel() == "saving against standing alone (USD bn a year)"
    assert len(ax.patches) == 4  # two splits with values, two players


@pytest.mark.parametrize("unit", [None, "USD bn a year"])
def test_without_a_unit_no_unit_is_claimed(unit: str | None) -> None:
    players = pd.DataFrame({"player": ["A"], "saving_proportional": [1.0],
                            "saving_shapley": [1.0], "saving_nucleolus": [1.0]})
    label = savings_figure(players, unit=unit).axes[0].get_ylabel()
    assert ("(" in label) == (unit is not None)


def test_frontier_progress_says_why_a_value_is_invalid(tmp_path) -> None:
    case = write_case(tmp_path / "case", partners="partner\nA\nB\n",
                      layers="layer,demand,max_share\nchips,10,1\n",
                      capabilities="partner,layer,capacity,unit_cost\nA,chips,10,1\n"
                                   "B,chips,10,2\n")
    result = CliRunner().invoke(main, ["frontier", str(case), "--trade-off",
                                       "layers.max_share", "--points", "2", "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    limit = next(line for line in result.stderr.splitlines() if " limit " in line)
    assert "invalid (layers[chips].max_share = 0: out of range: must be in (0, 1])" in limit
    search = pd.read_csv(tmp_path / "out" / "frontier_search.csv")
    assert search.loc[search["status"] == "invalid", "reason"].str.contains("out of range").all()
