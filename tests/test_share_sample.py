"""The coalition game's ``[share]`` table, a warm start gone wrong, and the sample's game."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from solver import load_case
from solver.cli import main
from solver.studies.game.share import share
from tests.tiny import write_case

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "models" / "allied-ai-stack.toml"

# A and B each need 10 chips; O, outside, has 10 at 1 and offers each alone half of it.
# A can build only 4 (at 3), so alone it falls short by 1: c(A) = 5*1 + 4*3 + 1*price.
# A and B form the bloc "ab"; Z (no demand, no capability) is a bloc of its own.
CASE = {
    "partners": "partner,member,bloc\nA,true,ab\nB,true,ab\nO,false,\nZ,true,z\n",
    "layers": "layer,min_supplier_share\nchips,0\n",
    "capabilities": "partner,layer,capacity,unit_cost\nA,chips,4,3\nB,chips,20,5\n"
                    "O,chips,10,1\n",
    "demand": "member,layer,demand\nA,chips,10\nB,chips,10\n",
}


def _model_file(tmp_path: Path, share_table: str, objective: str = "") -> Path:
    write_case(tmp_path / "data" / "game", **CASE)
    model = tmp_path / "models" / "game.toml"
    model.parent.mkdir(parents=True)
    model.write_text(f'case = "../data/game"\n[objective]\n{objective}\n[share]\n{share_table}',
                     encoding="utf-8")
    return model


def test_the_share_table_gives_the_defaults(tmp_path: Path) -> None:
    model = _model_file(tmp_path, 'players = "bloc"\nshortage_cost = 100\n')
    case = load_case(model)
    assert case.share_options.players == "bloc"
    assert case.share_options.shortage_cost == 100
    assert case.objective.shortage_cost is None  # the other runs keep demand hard
    result = share(case)
    assert sorted(result.players["player"]) == ["ab", "z"]
    assert result.players.set_index("player").loc["ab", "members"] == "A+B"


def test_the_command_line_wins_over_the_share_table(tmp_path: Path) -> None:
    model = _model_file(tmp_path, 'players = "bloc"\nshortage_cost = 100\nexact_up_to = 1\n'
                        'samples = 7\nseed = 3\n')
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["share", str(model), "--players", "member",
                                    "--exact-up-to", "12", "--out", str(out)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    groups = pd.read_csv(out / "groups.csv").set_index("group")
    assert set(groups.index) >= {"A", "B", "Z", "A+B", "A+B+Z"}  # members, every group
    assert groups.loc["A", "cost"] == pytest.approx(5 + 12 + 100)  # [share] shortage_cost
    # objective.shortage_cost, from --set or [objective], is the price when it is set.
    res = CliRunner().invoke(main, ["share", str(model), "--players", "member",
                                    "--exact-up-to", "12", "--out", str(out), "--force",
                                    "--set", "objective.shortage_cost=50"])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "groups.csv").set_index("group").loc["A", "cost"] == \
        pytest.approx(5 + 12 + 50)


def test_the_share_table_defaults_apply_when_the_command_line_names_nothing(
        tmp_path: Path) -> None:
    # exact_up_to = 1 from [share]: two players are more than one, so the game is sampled.
    model = _model_file(tmp_path, 'players = "member"\nexact_up_to = 1\nsamples = 5\n',
                        objective="shortage_cost = 100")
    res = CliRunner().invoke(main, ["share", str(model), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    # Sampled, yet stability is established: by the separation MIP, not by the samples.
    assert "stability, every proper group, by the separation MIP" in res.output
    assert "not established" not in res.output
    assert "nucleolus: not computed: it needs every group, and 3 players are more than " \
        "--exact-up-to 1" in res.output
    assert "± se" in res.output


def test_a_group_after_one_with_nothing_to_do_is_solved_right(tmp_path: Path) -> None:
    # Z (no demand, no capability) leaves a plan that hosts nothing; HiGHS, warm-started
    # from it for A+B, reported an "optimum" of 0 for a plan costing 4,000 (the lost offset
    # of its presolved space). The checker refused it; the group is solved again, cold.
    from solver.studies.game.groups import GroupSolver, GroupTask, game_case

    case = load_case(write_case(tmp_path / "c", **CASE)).with_overrides(
        {"objective.shortage_cost": 100.0})
    solver = GroupSolver(game_case(case), {"A": ["A"], "B": ["B"], "Z": ["Z"]})
    rows = [solver.run(GroupTask(i, g)).row for i, g in enumerate([("Z",), ("A", "B")])]
    assert rows[0]["cost"] == pytest.approx(0.0)
    # A+B: O's 10 at 1, A's 4 at 3, B's 6 at 5.
    assert rows[1]["cost"] == pytest.approx(10 + 12 + 30), rows[1]["status"]
    assert rows[1]["status"] == "optimal"
    assert solver.builds == 1


@pytest.mark.parametrize("bad", ['players = "nation"', "samples = 1", "shortage_cost = -1",
                                 "workers = 2"])
def test_a_bad_share_table_exits_2(tmp_path: Path, bad: str) -> None:
    model = _model_file(tmp_path, bad + "\n")
    res = CliRunner().invoke(main, ["share", str(model), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "game.toml" in res.output and "share" in res.output


def test_the_sample_game_is_the_readmes() -> None:
    """``coalition share`` on the sample prints what the README shows; no bloc pays < 0."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ coalition share models/allied-ai-stack.toml --players bloc --out out/share\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    result = share(load_case(SAMPLE), players="bloc")
    from solver.cli.share import format_share

    assert format_share(result) + "\nwritten: out/share (players.csv, groups.csv, " \
        "summary.json, plots/)\n" == shown
    assert (result.players["shapley"] >= 0).all()
    assert (result.players["nucleolus"] >= 0).all()
    assert result.summary["groups_evaluated"] == 15
    assert not result.summary["core_empty"]
    assert not result.summary["price_too_low"]


@pytest.mark.slow
def test_a_group_s_cost_does_not_depend_on_the_groups_solved_before_it() -> None:
    """c(S) bit for bit the same after another group as alone (the executor's promise).

    On the sample's member game, the group of every member but NL cost 875.8854999999998
    re-solved after the group of every member but SG on one model (warm-started from its
    plan) and 875.8855 alone (its order in the sampled game's list, one worker): one worker
    and two then fed different costs to the separation MIP, which went on to evaluate
    different groups (102 against 113).
    """
    from dataclasses import replace

    from solver.studies.game.groups import GroupTask, game_case
    from solver.studies.game.share import player_members
    from solver.studies.game.solvers import group_solver

    case = load_case(SAMPLE)
    price = {"shortage_cost": case.share_options.shortage_cost}
    case = replace(case, objective=case.objective.model_copy(update=price))
    members = player_members(case, "member")
    everyone = tuple(sorted(members))
    group, before = (tuple(p for p in everyone if p != out) for out in ("NL", "SG"))

    def rows(*groups: tuple[str, ...]) -> list[dict[str, object]]:
        solver = group_solver(game_case(case), members)
        return [solver.run(GroupTask(i, g)).row for i, g in enumerate(groups)]

    after = rows(before, group)[1]
    alone = rows(group)[0]
    assert alone["status"] == "optimal"
    assert (after["cost"], after["shortfall_cost"]) == (alone["cost"], alone["shortfall_cost"])
