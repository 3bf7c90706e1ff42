"""The coalition game on real cases (SPEC section 8): c(S) re-solved, shares, verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from solver import load_case
from solver.errors import UsageError
from solver.studies.game.share import share, verdict
from tests.tiny import write_case

# Two members A, B each need 10 chips; O is an outside supplier with 10 units at 1.
# A can build at 3, B at 5 (capacity 20 each). The coalition buys O's 10 (cost 10) and the
# other 10 from A (30): c(AB) = 40. Alone, each group gets O's capacity in proportion to
# its share of the demand (5 units): c(A) = 5 + 5*3 = 20, c(B) = 5 + 5*5 = 30.
GAME = {
    "partners": "partner,member\nA,true\nB,true\nO,false\nZ,true\n",
    "layers": "layer,min_supplier_share\nchips,0\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,20,3\nB,chips,20,5\n"
                    "O,chips,10,1\n",
    "demand": "member,layer,demand\nA,chips,10\nB,chips,10\n",
}


def _case(tmp_path: Path, **tables: str):  # type: ignore[no-untyped-def]
    case = load_case(write_case(tmp_path / "case", **{**GAME, **tables}))
    return case.with_overrides({"objective.shortage_cost": 100.0})


def test_outside_capacity_is_shared_in_proportion_to_demand(tmp_path: Path) -> None:
    result = share(_case(tmp_path), out=tmp_path / "out")
    c = dict(zip(result.groups["group"], result.groups["cost"], strict=True))
    assert c["A"] == pytest.approx(20.0)
    assert c["B"] == pytest.approx(30.0)
    assert c["A+B"] == pytest.approx(40.0)
    # Z has no demand and no capability: it costs nothing and adds nothing.
    assert c["Z"] == pytest.approx(0.0)
    assert c["A+B+Z"] == pytest.approx(40.0)
    players = result.players.set_index("player")
    assert players.loc["Z", "shapley"] == pytest.approx(0.0, abs=1e-9)
    assert players.loc["Z", "nucleolus"] == pytest.approx(0.0, abs=1e-6)
    # Shapley of A: (20 + (40 - 30)) / 2 = 15; of B: 25. Gain 50 - 40 = 10.
    assert players.loc["A", "shapley"] == pytest.approx(15.0)
    assert players.loc["B", "shapley"] == pytest.approx(25.0)
    assert result.summary["gain"] == pytest.approx(10.0)
    assert not result.summary["core_empty"]
    assert verdict(result).startswith("no group of members pays less alone; the closest, ")
    assert (result.groups["status"] == "optimal").all()
    assert result.summary["builds"] == 1
    assert (tmp_path / "out" / "players.csv").exists()
    assert (tmp_path / "out" / "plots" / "savings.png").stat().st_size > 0


def test_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "c", **GAME))
    with pytest.raises(UsageError, match="shortage_cost"):
        share(case)
    with pytest.raises(UsageError, match="member or bloc"):
        share(_case(tmp_path), players="nation")


def test_the_command_prints_players_gain_and_verdict(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from solver.cli import main

    folder = write_case(tmp_path / "case", **GAME)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["share", str(folder), "--set",
                                    "objective.shortage_cost=100", "--out", str(out),
                                    "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    assert "no group of members pays less alone" in res.output
    assert "gain of cooperation: 10" in res.output
    assert (out / "share.xlsx").exists()
    # Progress names the game's groups, not a sweep's points.
    assert "share, besides the whole coalition: 6 groups" in res.output
    groups = json.loads((out / "summary.json").read_text())["groups_evaluated"]
    assert groups == 6 + 1  # the same count: summary.json has the whole coalition too
    assert "[1/6] group 0 (A): optimal" in res.output
    assert "sweep:" not in res.output and "point" not in res.output


@pytest.mark.parametrize(("tables", "code"), [
    ({}, 2),                                                     # no shortage cost
    ({"demand": None}, 2),                                       # no demand.csv
    ({"partners": "partner,member\nA,true\nO,false\n",
      "capabilities": "partner,layer,capacity,unit_cost\nA,chips,20,3\n",
      "demand": "member,layer,demand\nA,chips,10\n"}, 2),        # one player
])
def test_bad_input_exits_2(tmp_path: Path, tables: dict[str, str | None], code: int) -> None:
    from click.testing import CliRunner

    from solver.cli import main

    merged = {k: v for k, v in {**GAME, **tables}.items() if v is not None}
    merged.setdefault("layers", GAME["layers"])
    if "demand" not in merged:
        merged["layers"] = "layer,demand,min_supplier_share\nchips,20,0\n"
    folder = write_case(tmp_path / "case", **merged)
    args = ["share", str(folder), "--out", str(tmp_path / "o")]
    if tables:
        args += ["--set", "objective.shortage_cost=100"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == code, res.output
    assert res.output.strip().count("\n") == 0
    assert res.output.startswith("error:")


def test_an_infeasible_grand_coalition_exits_3(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from solver.cli import main

    folder = write_case(tmp_path / "case", **{**GAME, "layers":
                                               "layer,min_supplier_share,min_suppliers\n"
                                               "chips,0,5\n"})
    res = CliRunner().invoke(main, ["share", str(folder), "--set",
                                    "objective.shortage_cost=100", "--out",
                                    str(tmp_path / "o")])
    assert res.exit_code == 3, res.output
    assert "infeasible" in res.output


def _tables(result):  # type: ignore[no-untyped-def]
    groups = result.groups.sort_values("group").reset_index(drop=True)
    return groups[["group", "size", "cost", "shortfall_cost", "status"]], result.players


def test_two_workers_and_dask_give_the_same_tables(tmp_path: Path) -> None:
    import pandas as pd
    from dask.distributed import LocalCluster

    case = _case(tmp_path)
    one = _tables(share(case))
    two = _tables(share(case, workers=2))
    pd.testing.assert_frame_equal(one[0], two[0], check_exact=True)
    pd.testing.assert_frame_equal(one[1], two[1], check_exact=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        on_dask = _tables(share(case, scheduler=cluster))
    pd.testing.assert_frame_equal(one[0], on_dask[0], check_exact=True)
    pd.testing.assert_frame_equal(one[1], on_dask[1], check_exact=True)


class _StopAfter:
    """A progress that raises KeyboardInterrupt after ``k`` groups, and counts groups."""

    def __init__(self, k: int | None) -> None:
        self.k, self.seen = k, 0

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done

    def point(self, outcome: object) -> None:
        self.seen += 1
        if self.k is not None and self.seen >= self.k:
            raise KeyboardInterrupt

    def finish(self, interrupted: bool = False) -> None:
        self.interrupted = interrupted


def test_resume_evaluates_only_the_missing_groups(tmp_path: Path) -> None:
    import pandas as pd

    case = _case(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        share(case, out=out, progress=_StopAfter(2))
    assert len(pd.read_csv(out / "groups.csv")) == 2
    again = _StopAfter(None)
    result = share(case, out=out, resume=True, progress=again)
    # 3 players: 6 proper groups, 2 kept from the first run.
    assert (again.total, again.done, again.seen) == (6, 2, 4)
    assert _tables(result)[0].equals(_tables(share(case))[0])


@pytest.mark.parametrize("exact_up_to", [12, 1])
def test_the_order_groups_finish_in_changes_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    exact_up_to: int) -> None:
    """Groups arriving in another order (two workers, Dask) give the same tables and summary.

    The groups table was in the order they finished in, and so was c(S) for the least-core
    LP and the separation: on the sample's sampled member game one worker and two went on
    to evaluate different groups.
    """
    import pandas as pd

    import solver.studies.engine.executor as executor

    case = _case(tmp_path)
    in_order = share(case, exact_up_to=exact_up_to, samples=4)
    real = executor.execute

    def backwards(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        return reversed(list(real(*args, **kwargs)))  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "execute", backwards)
    reversed_ = share(case, exact_up_to=exact_up_to, samples=4)
    assert in_order.summary["method"] == ("exact" if exact_up_to == 12 else "sampled")
    pd.testing.assert_frame_equal(in_order.groups.drop(columns="seconds"),
                                  reversed_.groups.drop(columns="seconds"), check_exact=True)
    pd.testing.assert_frame_equal(in_order.players, reversed_.players, check_exact=True)

    def timeless(summary: dict[str, object]) -> dict[str, object]:
        out = {k: v for k, v in summary.items() if k != "seconds"}
        out["stability"] = {k: v for k, v in summary["stability"].items()  # type: ignore[attr-defined]
                            if k != "separation_seconds"}
        return out

    assert timeless(in_order.summary) == timeless(reversed_.summary)
