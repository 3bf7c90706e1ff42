"""The game says what it found, and claims only what was established (issues 28 and 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import load_case
from solver.cli import main
from solver.studies.game import arithmetic as game
from solver.studies.game.share import share
from tests.test_share import GAME
from tests.tiny import write_case

# Three members each need 10 chips; each can build one fab of 20 at fixed cost 100 and 1 a
# unit. Alone: 110. Any pair shares one fab: 120. All three need two fabs: 230. The pairs
# could pay 360 in all, and the three 2 x 230 = 460 over the three pairs: the core is empty.
# With x = 230/3 each, every pair pays 153.3 against 120 alone: eps* = 100/3.
FABS = {
    "partners": "partner\nA\nB\nC\n",
    "layers": "layer,min_supplier_share\nchips,0\n",
    "capabilities": "partner,layer,capacity,unit_cost,fixed_cost\n"
                    "A,chips,20,1,100\nB,chips,20,1,100\nC,chips,20,1,100\n",
    "demand": "member,layer,demand\nA,chips,10\nB,chips,10\nC,chips,10\n",
}


def _case(tmp_path: Path, tables: dict[str, str]):  # type: ignore[no-untyped-def]
    case = load_case(write_case(tmp_path / "case", **tables))
    return case.with_overrides({"objective.shortage_cost": 1000.0})


def test_separation_establishes_what_enumeration_does(tmp_path: Path) -> None:
    case = _case(tmp_path, FABS)
    exact = share(case)
    sampled = share(case, exact_up_to=1, samples=3)
    c = {frozenset(g.split("+")): v for g, v in zip(exact.groups["group"],
                                                     exact.groups["cost"], strict=True)}
    for result in (exact, sampled):
        s = result.summary
        assert s["core_empty"] is True
        assert s["least_core"] == pytest.approx(100 / 3)
        # The separation's most blocking group is enumeration's, whatever the split.
        x = result.players.set_index("player")["shapley"].to_dict()
        best, where = game.max_excess(list("ABC"), c, x)
        blocking = s["most_blocking"]["shapley"]
        assert blocking["excess"] == pytest.approx(best)
        assert blocking["group"] == "+".join(sorted(where))
        assert blocking["established"] is True
    assert exact.summary["most_blocking"]["shapley"]["excess"] == pytest.approx(230 * 2 / 3
                                                                                 - 120)
    assert exact.summary["stability"]["method"] == "enumeration"
    assert sampled.summary["stability"]["method"] == "separation"
    assert sampled.summary["least_core_bound"] == pytest.approx(100 / 3, abs=1e-4)
    assert sampled.summary["notes"]["nucleolus"].startswith("not computed: it needs every")
    assert sampled.players["nucleolus"].isna().all()
    assert sampled.players["shapley_se"].notna().all()


def test_the_command_prints_each_splits_blocking_group_and_the_core(tmp_path: Path) -> None:
    folder = write_case(tmp_path / "case", **FABS)
    res = CliRunner().invoke(main, ["share", str(folder), "--set",
                                    "objective.shortage_cost=1000", "--exact-up-to", "2",
                                    "--samples", "4", "--out", str(tmp_path / "out"),
                                    "--mip-gap", "0", "--time-limit", "60", "--solver",
                                    "highs"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any(line.split()[:2] == ["player", "standalone"] and "± se" in line
               for line in lines)
    assert "stability, every proper group, by the separation MIP" in res.output
    # Proportional is 230/3 each: every pair pays 33.33 more than alone; the sampled Shapley
    # value is lopsided, and its blocking group is named with its own excess.
    line = next(li for li in lines if li.startswith("  proportional: "))
    assert line.split()[1] in ("A+B", "A+C", "B+C")  # a tie: any pair
    assert line.endswith(" would pay 33.33 less alone")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    shapley = summary["most_blocking"]["shapley"]
    assert f"  shapley: {shapley['group']} would pay {shapley['excess']:,.4g} less alone" \
        in lines
    assert "the core is empty (least-core value 33.33)" in res.output
    assert "nucleolus: not computed: it needs every group, and 3 players are more than " \
        "--exact-up-to 2" in res.output


def test_nothing_is_claimed_from_the_groups_sampled_alone(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    # Without a separation model, only the groups the samples needed are known: a group that
    # would leave would be a fact, but "no group leaves" and a non-empty core are not.
    import solver.model.separation as separation

    def refuse(*_a: object, **_k: object) -> None:
        raise ValueError("no separation model here")

    monkeypatch.setattr(separation, "build_separation", refuse)
    case = load_case(write_case(tmp_path / "case", **GAME)).with_overrides(
        {"objective.shortage_cost": 100.0})
    result = share(case, exact_up_to=1, samples=2, out=tmp_path / "out")
    s = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["core_empty"] is None
    assert s["stability"]["method"] == "evaluated groups"
    assert "no separation model here" in s["stability"]["checked"]
    assert not any(b["established"] for b in s["most_blocking"].values())
    from solver.cli.share import format_share

    text = format_share(result)
    assert "whether the core is empty is not established" in text
    assert "no group found that pays less alone, but not every group was checked" in text
    assert "no group of members pays less alone" not in text


def test_the_prenucleolus_only_when_asked(tmp_path: Path) -> None:
    case = _case(tmp_path, FABS)
    assert "prenucleolus" not in share(case).players
    players = share(case, prenucleolus=True).players.set_index("player")
    # Symmetric and inside the standalone costs: both are 230/3 each.
    assert players["prenucleolus"].tolist() == pytest.approx([230 / 3] * 3)
    assert players["nucleolus"].tolist() == pytest.approx([230 / 3] * 3)


@pytest.mark.parametrize("option", [["--mip-gap", "nan"], ["--time-limit", "0"],
                                    ["--solver", "no-such-solver"]])
def test_bad_solver_options_exit_2(tmp_path: Path, option: list[str]) -> None:
    folder = write_case(tmp_path / "case", **FABS)
    res = CliRunner().invoke(main, ["share", str(folder), "--set",
                                    "objective.shortage_cost=1000", "--out",
                                    str(tmp_path / "out"), *option])
    assert res.exit_code == 2, res.output


def test_an_empty_imputation_set_leaves_the_nucleolus_blank_and_says_why(
        tmp_path: Path) -> None:
    # Three suppliers required: the whole coalition builds three fabs (330), while each
    # member alone buys its 10 chips outside at 1 a unit (and its missing suppliers at the
    # same price): the coalition costs more than its members alone, so no split gives each
    # a saving and there is no nucleolus.
    tables = {**FABS, "layers": "layer,min_supplier_share,min_suppliers\nchips,0,3\n"}
    case = load_case(write_case(tmp_path / "case", **tables)).with_overrides(
        {"objective.shortage_cost": 1.0})
    result = share(case)
    assert result.summary["grand_cost"] > result.summary["standalone_total"]
    assert result.summary["notes"]["nucleolus"].startswith(
        "not defined: the imputation set is empty")
    assert result.players["nucleolus"].isna().all()
    from solver.cli.share import format_share

    assert "nucleolus: not defined: the imputation set is empty" in format_share(result)


def test_another_solver_plays_the_same_game(tmp_path: Path) -> None:
    # --solver reaches every solve of the game: the groups and the separation MIP.
    pytest.importorskip("pyscipopt", reason="SCIP comes with the dev extras (pyscipopt)")
    folder = write_case(tmp_path / "case", **FABS)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["share", str(folder), "--set",
                                    "objective.shortage_cost=1000", "--exact-up-to", "2",
                                    "--samples", "3", "--solver", "scip", "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["stability"]["method"] == "separation"
    assert summary["least_core"] == pytest.approx(100 / 3)
    assert summary["core_empty"] is True


def test_a_search_stopped_short_claims_nothing() -> None:
    # A separation MIP stopped by its limits: its group saves inside, but its bound is
    # above zero, so "no group leaves" is not a fact, and the core is not decided either.
    import pandas as pd

    from solver.studies.game.share import ShareResult, core_verdict, verdict

    info = {"group": "A+B", "excess": -0.25, "bound": 1.5, "method": "separation",
            "established": False, "status": "time_limit"}
    result = ShareResult(players=pd.DataFrame(), groups=pd.DataFrame(), summary={
        "grand_cost": 100.0, "most_blocking": {"shapley": info}, "least_core": -0.5,
        "least_core_bound": 1.5, "core_empty": None})
    text = verdict(result)
    assert text.startswith("not established: the separation MIP stopped (time_limit)")
    assert "bound on the excess 1.5" in text and "A+B, saves 0.25 inside" in text
    assert core_verdict(result) == ("whether the core is empty is not established "
                                    "(least-core value between -0.5 and 1.5)")
