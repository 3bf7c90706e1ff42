"""Near-optimal alternatives: the searches, their guarantees, the table, the CLI, bad input."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from solver import load_case
from solver.check.run import check_run
from solver.cli import main
from solver.errors import InfeasibleError, UsageError
from solver.studies.alternatives.alternatives import alternatives
from tests.cases import write_case as write_base
from tests.tiny import TWO_SUPPLIERS, write_case

#: Two partners that can each serve the one layer alone at the same cost (fixed 5 + 10 x 1):
#: two equally cheap hosting patterns, and hosting both costs 5 more.
TWINS = {
    "partners": "partner\nA\nB\n",
    "layers": "layer,demand\nchips,10\n",
    "capabilities": "partner,layer,capacity,unit_cost,fixed_cost\n"
                    "A,chips,100,1,5\nB,chips,100,1,5\n",
}


def _hosts(result: Any) -> frozenset[tuple[str, str]]:
    frame = result.allocation
    return frozenset(zip(frame.loc[frame["hosted"], "partner"],
                         frame.loc[frame["hosted"], "layer"], strict=True))


def test_slack_zero_finds_the_other_equally_cheap_pattern(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path / "twins", **TWINS))
    found = alternatives(case, slack=0.0, count=2)
    assert found.optimum.objective == pytest.approx(15.0)
    assert list(found.plans) == ["alternative-1"]
    other = found.plans["alternative-1"]
    assert other.objective == pytest.approx(15.0)
    assert {_hosts(found.optimum), _hosts(other)} == {frozenset({("A", "chips")}),
                                                      frozenset({("B", "chips")})}
    # The second search finds nothing different from both within the slack, and says so.
    assert found.stopped == ["slack 0: no plan within the slack differs from every one found"]


def test_one_cheap_pattern_at_slack_zero_gives_none_and_says_so(tmp_path: Path) -> None:
    case_dir = write_case(tmp_path / "two", **TWO_SUPPLIERS)
    found = alternatives(load_case(case_dir), slack=0.0, count=3)
    assert found.plans == {}
    assert found.stopped == ["slack 0: no other plan within the slack"]
    out = CliRunner().invoke(main, ["alternatives", str(case_dir), "--slack", "0",
                                    "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    assert "slack 0: no other plan within the slack" in out.output
    assert len(pd.read_csv(tmp_path / "out" / "alternatives.csv")) == 1


def test_a_larger_slack_admits_the_dearer_pattern(tmp_path: Path) -> None:
    # B alone costs 20 against A's 10 (+100%) and differs in two decisions; hosting both
    # differs in one, and costs less.
    case = load_case(write_case(tmp_path / "two", **TWO_SUPPLIERS))
    both = alternatives(case, slack=0.5, count=1).plans["alternative-1"]
    assert _hosts(both) == {("A", "chips"), ("B", "chips")}
    assert both.objective < 15.0
    found = alternatives(case, slack=1.0, count=1)
    assert _hosts(found.plans["alternative-1"]) == {("B", "chips")}
    assert found.table.set_index("plan").at["alternative-1", "increase_pct"] == \
        pytest.approx(100.0)


@pytest.fixture(scope="module")
def base_search(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """Three alternatives within 10% of the test base case, written to a folder."""
    root = tmp_path_factory.mktemp("alternatives")
    case_dir = write_base(root / "case")
    out = root / "out"
    found = alternatives(load_case(case_dir), slack=0.10, count=3, out=out)
    return found, case_dir, out


def test_every_alternative_is_within_the_slack_verified_and_different(
        base_search: tuple[Any, Path, Path]) -> None:
    found, case_dir, out = base_search
    assert len(found.plans) >= 2
    cap = 1.10 * found.optimum.objective * (1 + 1e-9)
    plans = [found.optimum, *found.plans.values()]
    for name, result in found.plans.items():
        assert result.objective <= cap
        assert result.verified
        # The written run folder passes the independent checker on its own.
        assert check_run(load_case(case_dir), out / name) == [], name
    hostings = [_hosts(r) for r in plans]
    assert len(set(hostings)) == len(hostings), "two plans host the same way"
    table = found.table.set_index("plan")
    assert list(table.index) == ["optimum", *found.plans]
    assert (table["increase_pct"] <= 10.0 + 1e-6).all()
    assert table["verified"].all()
    for name, result in found.plans.items():
        assert table.at[name, "cost"] == pytest.approx(result.objective)
        # Each plan is as far as the search said from the nearest earlier plan.
        earlier = hostings[:list(found.plans).index(name) + 1]
        nearest = min(len(_hosts(result) ^ h) for h in earlier)
        assert table.at[name, "distance"] == nearest >= 1


def test_the_table_lists_gains_losses_and_layers(base_search: tuple[Any, Path, Path]) -> None:
    found, _case_dir, out = base_search
    written = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    assert list(written["plan"]) == list(found.table["plan"])
    base = _hosts(found.optimum)
    for row in written.to_dict("records")[1:]:
        hosts = _hosts(found.plans[row["plan"]])
        gained = set(filter(None, row["gained"].split("; ")))
        lost = set(filter(None, row["lost"].split("; ")))
        assert gained == {f"{p}:{ly}" for p, ly in hosts - base}
        assert lost == {f"{p}:{ly}" for p, ly in base - hosts}
        assert row["hosts_changed"] == len(gained) + len(lost)
    for layer in ("chips", "cloud"):
        assert f"suppliers[{layer}]" in written and f"hhi[{layer}]" in written
    assert (out / "optimum" / "summary.json").is_file()


def test_maximize_participation_never_falls_as_the_slack_grows(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    found = alternatives(case, slack=[0.0, 0.05, 0.2, 0.5], maximize="participation[A]",
                         out=tmp_path / "out")
    table = found.table.set_index("plan")
    values = [table.at["optimum", "value"]] + [
        table.at[f"maximize-participation-A-slack-{s:g}", "value"] for s in (0, 0.05, 0.2, 0.5)]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values)), values
    assert values[-1] > values[0] + 1e-6, "the slack should let A supply more"
    for name, result in found.plans.items():
        part = result.partners.set_index("partner").at["A", "participation"]
        assert table.at[name, "value"] == pytest.approx(part)
        assert result.verified
    assert (tmp_path / "out" / "plots" / "alternatives.png").stat().st_size > 0


def test_minimize_hosts_and_suppliers_directions(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    found = alternatives(case, slack=1.0, minimize="suppliers[cloud]")
    assert found.table.set_index("plan")["value"].iloc[-1] == 1.0
    most = alternatives(case, slack=1.0, maximize="hosts[A]")
    assert most.table["value"].iloc[-1] == 2.0  # A can host both layers


def test_workers_give_the_same_plans_as_one_process(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    args: dict[str, Any] = {"slack": [0.02, 0.1], "maximize": "share[A,chips]"}
    one = alternatives(case, **args).table
    two = alternatives(case, workers=2, **args).table
    pd.testing.assert_frame_equal(one[["plan", "cost", "value"]],
                                  two[["plan", "cost", "value"]], check_exact=True)


def test_the_dask_cluster_gives_the_same_plans(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    case = load_case(write_base(tmp_path / "case"))
    args: dict[str, Any] = {"slack": [0.0, 0.1], "count": 2}
    one = alternatives(case, **args).table
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        far = alternatives(case, scheduler=cluster, **args).table
    pd.testing.assert_frame_equal(one[["plan", "cost", "hosts_changed"]],
                                  far[["plan", "cost", "hosts_changed"]], check_exact=True)


def test_one_persistent_model_serves_every_search(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    build_module = importlib.import_module("solver.model.build")
    compile_module = importlib.import_module("solver.highs.compile")

    calls = {"build": 0, "compile": 0}
    real_build, real_compile = build_module.build, compile_module.compile_model

    def counting_build(*a: Any, **k: Any) -> Any:
        calls["build"] += 1
        return real_build(*a, **k)

    def counting_compile(*a: Any, **k: Any) -> Any:
        calls["compile"] += 1
        return real_compile(*a, **k)

    monkeypatch.setattr(build_module, "build", counting_build)
    monkeypatch.setattr(compile_module, "compile_model", counting_compile)
    found = alternatives(load_case(write_base(tmp_path / "case")), slack=0.1, count=3)
    assert len(found.plans) >= 2
    # The presolve checks build nothing; the optimum and every search share one model.
    assert calls == {"build": 1, "compile": 1}


class _StopAfterFirst:
    """A progress that raises KeyboardInterrupt once the first plan is written."""

    def start(self, label: str, total: int | None, unit: str = "solve") -> None:
        """Nothing to set up."""

    def step(self, text: str) -> None:
        """Stop, as Ctrl-C would."""
        raise KeyboardInterrupt

    def finish(self) -> None:
        """Nothing to end."""


def test_ctrl_c_keeps_the_plans_found(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        alternatives(case, slack=0.1, count=3, out=out, progress=_StopAfterFirst())
    table = pd.read_csv(out / "alternatives.csv")
    assert list(table["plan"]) == ["optimum", "alternative-1"]
    assert check_run(load_case(tmp_path / "case"), out / "alternative-1") == []
    assert not list(out.glob(".*partial"))


class _Counting(_StopAfterFirst):
    """A progress that counts the plans it is told of."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.steps = 0

    def start(self, label: str, total: int | None, unit: str = "solve") -> None:
        """Note how many plans are to come."""
        self.total = total

    def step(self, text: str) -> None:
        """One more plan."""
        self.steps += 1


def test_resume_searches_only_for_the_missing_plans(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        alternatives(case, slack=0.1, count=3, out=out, progress=_StopAfterFirst())
    first = (out / "alternative-1" / "summary.json").read_text()
    counting = _Counting()
    resumed = alternatives(case, slack=0.1, count=3, out=out, resume=True, progress=counting)
    whole = alternatives(case, slack=0.1, count=3)
    assert counting.total == 3 - 1  # one of three plans was found before
    assert counting.steps == len(whole.plans) - 1
    columns = ["plan", "cost", "hosts_changed", "distance", "gained", "lost"]
    pd.testing.assert_frame_equal(resumed.table[columns], whole.table[columns], rtol=1e-6)
    assert (out / "alternative-1" / "summary.json").read_text() == first, "rewritten"
    written = pd.read_csv(out / "alternatives.csv")
    assert list(written["plan"]) == list(whole.table["plan"])
    # Resumed again, only the plan the search could not find is looked for, and not found.
    again = _Counting()
    alternatives(case, slack=0.1, count=3, out=out, resume=True, progress=again)
    assert (again.total, again.steps) == (3 - len(whole.plans), 0)


def test_resume_refuses_another_request_or_no_earlier_search(tmp_path: Path) -> None:
    case_dir = write_base(tmp_path / "case")
    out = tmp_path / "out"
    cli = CliRunner()
    assert cli.invoke(main, ["alternatives", str(case_dir), "--slack", "0.1", "--count", "1",
                             "--out", str(out)]).exit_code == 0
    other = cli.invoke(main, ["alternatives", str(case_dir), "--slack", "0.1", "--count",
                              "2", "--out", str(out), "--resume"])
    assert other.exit_code == 2 and "was made with another count" in other.output
    none = cli.invoke(main, ["alternatives", str(case_dir), "--out", str(tmp_path / "new"),
                             "--resume"])
    assert none.exit_code == 2 and "holds no earlier search" in none.output
    bare = cli.invoke(main, ["alternatives", str(case_dir), "--resume"])
    assert bare.exit_code == 2 and "--resume needs the --out folder" in bare.output


def test_cli_writes_verified_plans_and_a_table(tmp_path: Path) -> None:
    case_dir = write_base(tmp_path / "case")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["alternatives", str(case_dir), "--slack", "0.1",
                                       "--count", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:5] == ["plan", "cost", "+%", "gained", "lost"]
    assert "alternative-1" in result.output
    for name in ("optimum", "alternative-1"):
        assert check_run(load_case(case_dir), out / name) == []
    again = CliRunner().invoke(main, ["alternatives", str(case_dir), "--out", str(out)])
    assert again.exit_code == 2 and "pass --force" in again.output
    forced = CliRunner().invoke(main, ["alternatives", str(case_dir), "--slack", "0.1",
                                       "--count", "1", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "alternative-2").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--slack", "-0.01"], "must be >= 0"),
    (["--slack", "0.1,x"], "'x' is not a number"),
    (["--slack", "nan"], "must be >= 0"),
    (["--count", "0"], "--count"),
    (["--count", "101"], "--count"),
    (["--maximize", "share[A,chips,x]"], "takes two ids"),
    (["--maximize", "participation[ZZ]"], "'ZZ' is not a partner of partners.csv"),
    (["--maximize", "suppliers[nothing]"], "'nothing' is not a layer of layers.csv"),
    (["--minimize", "share[X,chips]"], "names nothing a plan can change: X may not supply "
                                       "chips"),
    (["--maximize", "share[A]"], "share[PARTNER,LAYER] expected"),
    (["--maximize", "cost"], "is not a quantity of the plan"),
    (["--maximize", "hosts[A]", "--minimize", "hosts[B]"], "not both"),
    (["--scheduler", "not a url", "--slack", "0.1,0.2"], "expected tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:1", "--slack", "0.1,0.2"], "cannot connect"),
])
def test_bad_input_is_exit_2_with_one_line(tmp_path: Path, args: list[str],
                                           message: str) -> None:
    case_dir = write_base(tmp_path / "case")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["alternatives", str(case_dir), "--out", str(out),
                                       *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists(), "nothing is written for bad input"


def test_library_refuses_bad_arguments(tmp_path: Path) -> None:
    case = load_case(write_base(tmp_path / "case"))
    for kwargs in ({"slack": -0.1}, {"slack": []}, {"slack": float("inf")}, {"count": 0},
                   {"count": True}, {"maximize": "hosts[A]", "minimize": "hosts[A]"}):
        with pytest.raises(UsageError):
            alternatives(case, **kwargs)


def test_an_infeasible_case_is_exit_3_with_the_explanation(tmp_path: Path) -> None:
    case_dir = write_case(tmp_path / "short", **{
        **TWO_SUPPLIERS, "layers": "layer,demand\nchips,1000\n"})
    with pytest.raises(InfeasibleError):
        alternatives(load_case(case_dir))
    result = CliRunner().invoke(main, ["alternatives", str(case_dir),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "infeasible" in result.output


def test_the_sample_gives_three_verified_plans_as_the_readme_shows(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "alternatives"
    result = CliRunner().invoke(main, ["alternatives", str(root / "models" /
                                                           "allied-ai-stack.toml"),
                                       "--slack", "0.03", "--count", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    case = load_case(root / "models" / "allied-ai-stack.toml")
    table = pd.read_csv(out / "alternatives.csv")
    assert list(table["plan"]) == ["optimum", "alternative-1", "alternative-2",
                                   "alternative-3"]
    assert (table["increase_pct"] <= 3.0 + 1e-6).all()
    hostings = []
    for name in table["plan"]:
        assert check_run(case, out / name) == [], name
        frame = pd.read_csv(out / name / "allocation.csv")
        hostings.append(frozenset(zip(frame.loc[frame["hosted"], "partner"],
                                      frame.loc[frame["hosted"], "layer"], strict=True)))
    assert len(set(hostings)) == 4
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = readme.split("--slack 0.03 --count 3 --out out/alternatives\n", 1)[1]
    shown = shown.split("written:", 1)[0]
    assert result.stdout.split("written:", 1)[0] == shown, "README's table is stale"


def test_a_priced_shortage_and_a_two_stage_design_are_searched_too(tmp_path: Path) -> None:
    from dataclasses import replace

    from solver.case.options import ScenarioOptions
    from tests.test_two_stage import CASE

    priced = load_case(write_base(tmp_path / "base")).with_overrides(
        {"objective.shortage_cost": 50})
    found = alternatives(priced, slack=0.2, count=2)
    assert found.plans and all(r.verified for r in found.plans.values())
    assert all(r.objective <= 1.2 * found.optimum.objective + 1e-6
               for r in found.plans.values())
    two_stage = replace(load_case(write_case(tmp_path / "shocks", **CASE)).with_overrides(
        {"objective.shortage_cost": 50}), scenario_options=ScenarioOptions(design="expected"))
    designed = alternatives(two_stage, slack=0.5, count=1)
    assert "recourse" in designed.optimum.costs
    for result in designed.plans.values():
        assert result.verified
        assert result.objective <= 1.5 * designed.optimum.objective + 1e-6
