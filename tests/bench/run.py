"""``make bench``: what the tool costs around HiGHS, per stage, at sizes S, M and L.

For each size a synthetic case is generated (:mod:`solver.case.generate`) and solved stage by
stage in a fresh process (:mod:`tests.bench.stages`); in another fresh process the same
matrices are built with numpy and passed straight to highspy (:mod:`tests.bench.reference`),
the floor no modelling layer can beat. A numbers-only sweep of 20 points on M runs with one
and with two workers (:mod:`tests.bench.sweep`); M is built with a chain against the same case
without one (:mod:`tests.bench.chain`) and over 1, 2 and 4 periods against one
(:mod:`tests.bench.pathway`); and the command line is timed on the sample case. One table
goes to the screen, and everything, with the machine and the versions, to
``tests/bench/results.json``. The build is what ``coalition solve`` builds: the matrices from
numpy where every family has an array form (:mod:`solver.model.assembly`), else Pyomo.

``python -m tests.bench [--sizes S,M,L] [--relax L] [--no-sweep] [--no-chain] [--no-pathway]
[--no-cli]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results.json"
SAMPLE = "models/allied-ai-stack.toml"

#: The stages of a solve, in order, with the names the table prints.
STAGES = {
    "load": "load + validate",
    "presolve": "presolve checks",
    "build": "build",
    "handover": "hand-over to HiGHS",
    "release": "free the Pyomo model",
    "solve_call": "solve call outside HiGHS",
    "highs": "HiGHS solve",
    "extract": "extraction",
    "check": "checker",
    "write": "write",
}
OVERHEAD = [s for s in STAGES if s != "highs"]

#: figure -> (target, "<=" or ">=", naive Pyomo as measured by the issue, unit)
TARGETS: dict[str, tuple[float, str, str]] = {
    "build + hand-over, s per M nonzeros (L)": (2.0, "<=", "~8"),
    "overhead ratio (L)": (0.10, "<=", "~0.27"),
    "peak RSS / numpy reference (L)": (1.25, "<=", "~1.4x"),
    "build + hand-over / numpy floor (L)": (1.0, "<=", "~1.6"),
    "peak RSS at hand-over / numpy floor (L)": (1.1, "<=", "~1.9"),
    "sweep point on M, wall / HiGHS": (1.05, "<=", "~1.10"),
    "sweep speed-up, 2 workers vs 1": (1.7, ">=", "-"),
    "coalition solve sample case, wall s": (1.5, "<=", "-"),
    "coalition --help, wall s": (0.3, "<=", "-"),
    "sample solve / (imports + HiGHS) floor": (1.3, "<=", "1.34"),
    "M with a chain / without, build + hand-over per nonzero": (1.2, "<=", "1.80"),
    "M over 4 periods / one, build + hand-over per nonzero": (1.2, "<=", "-"),
    "M over 1, 2, 4 periods: largest size per period / one's": (1.1, "<=", "-"),
}

#: What no command line can avoid: Python and the libraries a solve needs, imported.
FLOOR_IMPORTS = "import pandas, numpy, pyomo.core, highspy, pydantic, click"


def python_module(module: str, *args: str, timeout: float = 7200) -> dict[str, Any]:
    """Run ``python -m module args`` from the repository root; parse its last JSON line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def wall(cmd: list[str], repeat: int) -> float:
    """The median wall time of ``cmd`` over ``repeat`` runs (from the repository root).

    As on a planner's machine, Python caches compiled modules (some environments set
    PYTHONDONTWRITEBYTECODE, which recompiles the package on every start: +0.3 s here);
    a first run, not timed, writes the cache.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def coalition_command() -> list[str]:
    """How to run ``coalition``: the installed script if there is one."""
    script = Path(sys.executable).parent / "coalition"
    return [str(script)] if script.exists() else [sys.executable, "-m", "solver"]


def machine() -> dict[str, Any]:
    """The machine and the versions the figures were measured with."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    versions = {}
    for pkg in ("pyomo", "highspy", "numpy", "pandas", "pydantic", "click"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    from solver.highs.runner import highs_version

    versions["HiGHS"] = highs_version()
    versions["python"] = platform.python_version()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
            "system": platform.platform(), "versions": versions, "commit": commit,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": os.getloadavg()}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run from repeats: each stage's median seconds and largest peak."""
    run = dict(runs[0])
    run["stages"] = {
        stage: {"seconds": statistics.median(r["stages"][stage]["seconds"] for r in runs),
                "peak_mb": max(r["stages"][stage]["peak_mb"] for r in runs)}
        for stage in runs[0]["stages"]}
    run["repeats"] = len(runs)
    return run


def derive(run: dict[str, Any], ref: dict[str, Any]) -> dict[str, float]:
    """Overhead ratio, build + hand-over per million nonzeros, memory against the floor."""
    st = run["stages"]
    overhead = sum(st[s]["seconds"] for s in OVERHEAD)
    mnnz = run["nnz"] / 1e6
    ours = st["build"]["seconds"] + st["handover"]["seconds"]
    floor = ref["stages"]["build"]["seconds"] + ref["stages"]["handover"]["seconds"]
    peak = max(st[s]["peak_mb"] for s in STAGES)
    # Memory when HiGHS holds the model and nothing is solved yet (build and hand-over).
    held = max(st[s]["peak_mb"] for s in ("build", "handover"))
    ref_held = max(ref["stages"][s]["peak_mb"] for s in ("build", "handover"))
    return {
        "handover_peak_mb": held,
        "reference_handover_peak_mb": ref_held,
        "handover_peak_ratio": held / ref_held,
        "build_handover_ratio": ours / max(floor, 1e-9),
        "overhead_seconds": overhead,
        "overhead_ratio": overhead / max(st["highs"]["seconds"], 1e-9),
        "build_handover_seconds": ours,
        "build_handover_per_mnnz": ours / mnnz,
        "reference_build_handover_seconds": floor,
        "reference_per_mnnz": floor / mnnz,
        "peak_mb": peak,
        "reference_peak_mb": ref["peak_mb"],
        "peak_ratio": peak / ref["peak_mb"],
    }


def table(results: dict[str, Any]) -> str:
    """The bench table as printed."""
    sizes = results["sizes"]
    names = list(sizes)
    m = results["machine"]
    v = m["versions"]
    out = [f"coalition bench: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
           f"HiGHS {v['HiGHS']}, Pyomo {v['pyomo']}, Python {v['python']}; "
           f"commit {m['commit']}"]
    w = 20

    def row(label: str, cells: list[str]) -> None:
        out.append(f"{label:<34}" + "".join(f"{c:>{w}}" for c in cells))

    row("", [f"{n} ({'LP relaxation' if sizes[n]['run']['relaxed'] else 'MIP'})"
             for n in names])
    if len({sizes[n].get("commit") for n in names}) > 1:
        row("measured at commit", [str(sizes[n].get("commit")) for n in names])
    if any(sizes[n]["run"].get("repeats", 1) > 1 for n in names):
        row("solves (stage seconds: median)", [str(sizes[n]["run"].get("repeats", 1))
                                               for n in names])
    row("flow variables", [f"{sizes[n]['run']['flows']:,}" for n in names])
    row("columns / rows", [f"{sizes[n]['run']['cols']:,} / {sizes[n]['run']['rows']:,}"
                           for n in names])
    row("nonzeros", [f"{sizes[n]['run']['nnz']:,}" for n in names])
    row("stage: seconds / peak RSS MB", ["" for _ in names])
    for key, label in STAGES.items():
        row(f"  {label}", [f"{sizes[n]['run']['stages'][key]['seconds']:.2f} s / "
                           f"{sizes[n]['run']['stages'][key]['peak_mb']:.0f}" for n in names])
    row("  (imports, once per process)", [
        f"{sizes[n]['run']['stages']['imports']['seconds']:.2f} s" for n in names])
    d = {n: sizes[n]["derived"] for n in names}
    row("overhead (all but HiGHS), s", [f"{d[n]['overhead_seconds']:.2f}" for n in names])
    row("overhead ratio", [f"{d[n]['overhead_ratio']:.3f}" for n in names])
    row("build + hand-over, s / M nnz", [f"{d[n]['build_handover_per_mnnz']:.2f}"
                                         for n in names])
    row("status, verified", [f"{sizes[n]['run']['status']}, "
                             f"{'yes' if sizes[n]['run']['verified'] else 'no'}" for n in names])
    row("numpy -> highspy reference (LP):", ["" for _ in names])
    row("  build + hand-over, s", [f"{d[n]['reference_build_handover_seconds']:.2f}"
                                   for n in names])
    row("  s / M nnz", [f"{d[n]['reference_per_mnnz']:.2f}" for n in names])
    row("  HiGHS solve, s", [f"{sizes[n]['reference']['stages']['solve']['seconds']:.2f}"
                             for n in names])
    row("  same LP (rows, cols, nnz)", [
        "yes" if (sizes[n]["reference"]["rows"], sizes[n]["reference"]["cols"],
                  sizes[n]["reference"]["nnz"]) == (sizes[n]["run"]["rows"],
                                                    sizes[n]["run"]["cols"],
                                                    sizes[n]["run"]["nnz"]) else "NO"
        for n in names])
    row("  peak RSS MB", [f"{d[n]['reference_peak_mb']:.0f}" for n in names])
    row("  peak RSS MB at hand-over", [f"{d[n]['reference_handover_peak_mb']:.0f}"
                                       for n in names])
    row("build + hand-over / reference", [f"{d[n]['build_handover_ratio']:.2f}" for n in names])
    row("peak RSS at hand-over / reference", [f"{d[n]['handover_peak_ratio']:.2f}"
                                              for n in names])
    row("peak RSS / reference", [
        f"{d[n]['peak_ratio']:.2f}" if sizes[n]["run"]["relaxed"] else "- (MIP vs LP)"
        for n in names])
    sw = results.get("sweep")
    if sw:
        one, two = sw["workers_1"], sw["workers_2"]
        out.append("")
        at = f" (commit {sw['commit']})" if sw.get("commit", m["commit"]) != m["commit"] else ""
        out.append(f"sweep on M, {one['points']} points (demand.demand*=0.90..), numbers "
                   f"only{at}:")
        for s in (one, two):
            out.append(f"  workers {s['workers']}: wall {s['wall']:.1f} s, HiGHS "
                       f"{s['highs']:.1f} s summed, {s['wall'] / s['points']:.2f} s per point, "
                       f"models built {s['rebuilt']}, statuses {','.join(s['statuses'])}")
        out.append(f"  wall / HiGHS with 1 worker: {sw['ratio']:.3f}; speed-up 2 vs 1: "
                   f"{sw['speedup']:.2f}x")
    def built(label: str, c: dict[str, Any]) -> str:
        return (f"  {label:<12}{c['rows']:>8,} rows {c['cols']:>9,} cols {c['nnz']:>10,} nnz  "
                f"{c['per_nnz_us']:.2f} us/nnz")

    ch = results.get("chain")
    if ch:
        out.append("")
        out.append("M with a chain (2-3 inputs a layer) against M without, build + hand-over "
                   f"(per nonzero: {ch['ratio']:.2f}x):")
        out += [built(label, ch[label]) for label in ("plain", "chained")]
    pw = results.get("pathway")
    if pw:
        out.append("")
        out.append("M over periods against M without periods.csv, build + hand-over (4 "
                   f"periods per nonzero: {pw['ratio']:.2f}x):")
        out.append(built("no periods", pw["single"]))
        out += [built(f"{n} period(s)", c) + f"; per period {c['rows_per_period']:,.0f} / "
                f"{c['cols_per_period']:,.0f} / {c['nnz_per_period']:,.0f}"
                for n, c in pw["periods"].items()]
    cli = results.get("cli")
    if cli:
        out.append("")
        out.append(f"coalition --help: {cli['help']:.2f} s; coalition solve {SAMPLE}: "
                   f"{cli['solve']:.2f} s (medians)")
        if "imports" in cli:
            out.append(f"  floor: Python with pandas, numpy, pyomo.core, highspy, pydantic and "
                       f"click imported {cli['imports']:.2f} s, HiGHS's solve "
                       f"{cli['highs']:.2f} s")
    out.append("")
    out.append(f"{'target':<44}{'naive':>8}{'target':>10}{'measured':>10}  result")
    for name, (target, op, naive) in TARGETS.items():
        got = results["figures"].get(name)
        if got is None:
            out.append(f"{name:<44}{naive:>8}{op + ' ' + format(target, 'g'):>10}"
                       f"{'-':>10}  not run")
            continue
        ok = got <= target if op == "<=" else got >= target
        out.append(f"{name:<44}{naive:>8}{op + ' ' + format(target, 'g'):>10}{got:>10.3f}  "
                   f"{'met' if ok else 'MISSED'}")
    return "\n".join(out)


def figures(results: dict[str, Any]) -> dict[str, float]:
    """The figures the issue sets targets for, from what was measured."""
    f: dict[str, float] = {}
    large = results["sizes"].get("L")
    if large:
        d = large["derived"]
        f["build + hand-over, s per M nonzeros (L)"] = d["build_handover_per_mnnz"]
        f["overhead ratio (L)"] = d["overhead_ratio"]
        f["peak RSS / numpy reference (L)"] = d["peak_ratio"]
        if "build_handover_ratio" in d:
            f["build + hand-over / numpy floor (L)"] = d["build_handover_ratio"]
            f["peak RSS at hand-over / numpy floor (L)"] = d["handover_peak_ratio"]
    sw = results.get("sweep")
    if sw:
        f["sweep point on M, wall / HiGHS"] = sw["ratio"]
        f["sweep speed-up, 2 workers vs 1"] = sw["speedup"]
    chain = results.get("chain")
    if chain:
        f["M with a chain / without, build + hand-over per nonzero"] = chain["ratio"]
    pathway = results.get("pathway")
    if pathway:
        f["M over 4 periods / one, build + hand-over per nonzero"] = pathway["ratio"]
        f["M over 1, 2, 4 periods: largest size per period / one's"] = pathway["linearity"]
    cli = results.get("cli")
    if cli:
        f["coalition solve sample case, wall s"] = cli["solve"]
        f["coalition --help, wall s"] = cli["help"]
        if "imports" in cli:
            floor = cli["imports"] + cli["highs"]
            f["sample solve / (imports + HiGHS) floor"] = cli["solve"] / max(floor, 1e-9)
    return f


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="S,M,L", help="named sizes to run (default S,M,L)")
    parser.add_argument("--relax", default="L",
                        help="sizes solved as LP relaxations (default L: its MIP takes hours)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="solve each size this many times; stages take the median")
    parser.add_argument("--points", type=int, default=20, help="points of the sweep bench")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep bench")
    parser.add_argument("--no-cli", action="store_true", help="skip the command line timings")
    parser.add_argument("--no-chain", action="store_true",
                        help="skip the M case with a chain against the same case without")
    parser.add_argument("--no-pathway", action="store_true",
                        help="skip M over 1, 2 and 4 periods against M without periods")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--update", action="store_true",
                        help="keep what --out holds and replace only the parts run now (each "
                             "part records the commit it was measured at)")
    args = parser.parse_args(argv)

    from solver.case.generate import SIZES, generate_case

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    relax = {s.strip().upper() for s in args.relax.split(",") if s.strip()}
    results: dict[str, Any] = {"machine": machine(), "seed": args.seed, "sizes": {}}
    if args.update and args.out.exists():
        kept = json.loads(args.out.read_text(encoding="utf-8"))
        results["sizes"] = kept.get("sizes", {})
        for part in results["sizes"].values():  # figures added since are derived anew
            part["derived"] = derive(part["run"], part["reference"])
        results.update({k: kept[k] for k in ("sweep", "cli", "chain", "pathway") if k in kept})
        before = kept.get("machine", {}).get("commit")
        for part in [*results["sizes"].values(),
                     *(results.get(k) for k in ("sweep", "cli", "chain", "pathway"))]:
            if isinstance(part, dict):
                part.setdefault("commit", before)
    commit = results["machine"]["commit"]
    with tempfile.TemporaryDirectory(prefix="coalition-bench-") as tmp:
        for name in sizes:
            size = SIZES[name]
            folder = generate_case(size.partners, size.layers, size.members, args.seed,
                                   Path(tmp) / name)
            print(f"[bench] {name}: {size} solving ...", file=sys.stderr, flush=True)
            runs = [python_module("tests.bench.stages", str(folder),
                                  *(["--relax"] if name in relax else []))
                    for _ in range(max(args.repeat, 1))]
            run = median_run(runs)
            print(f"[bench] {name}: reference ...", file=sys.stderr, flush=True)
            ref = python_module("tests.bench.reference", str(folder))
            results["sizes"][name] = {"size": vars(size), "run": run, "reference": ref,
                                      "derived": derive(run, ref), "commit": commit}
        if not args.no_sweep:
            size = SIZES["M"]
            folder = generate_case(size.partners, size.layers, size.members, args.seed,
                                   Path(tmp) / "M-sweep")
            sw = {}
            for workers in (1, 2):
                print(f"[bench] sweep on M, {workers} worker(s) ...", file=sys.stderr,
                      flush=True)
                sw[f"workers_{workers}"] = python_module(
                    "tests.bench.sweep", str(folder), "--workers", str(workers),
                    "--points", str(args.points))
            one, two = sw["workers_1"], sw["workers_2"]
            sw["ratio"] = one["wall"] / max(one["highs"], 1e-9)
            sw["speedup"] = one["wall"] / max(two["wall"], 1e-9)
            sw["commit"] = commit
            results["sweep"] = sw
        if not args.no_chain:
            from tests.bench.chain import add_chain, measured, ratio

            size = SIZES["M"]
            folders = {}
            for label in ("plain", "chained"):
                folders[label] = generate_case(size.partners, size.layers, size.members,
                                               args.seed, Path(tmp) / f"M-{label}")
            add_chain(folders["chained"], args.seed)
            print("[bench] M with and without a chain: build and hand-over ...",
                  file=sys.stderr, flush=True)
            got = measured(folders, repeat=3)
            results["chain"] = {**got, "commit": commit,
                                "ratio": ratio(got["chained"], got["plain"])}
        if not args.no_pathway:
            from tests.bench.pathway import run as run_pathway

            size = SIZES["M"]
            folder = generate_case(size.partners, size.layers, size.members, args.seed,
                                   Path(tmp) / "M-periods")
            print("[bench] M over 1, 2, 4 periods: build and hand-over ...", file=sys.stderr,
                  flush=True)
            results["pathway"] = {**run_pathway(folder, args.seed, repeat=3), "commit": commit}
        if not args.no_cli:
            print("[bench] command line ...", file=sys.stderr, flush=True)
            cmd = coalition_command()
            sample_out = Path(tmp) / "sample"
            results["cli"] = {
                "help": wall([*cmd, "--help"], repeat=5),
                "solve": wall([*cmd, "solve", SAMPLE, "--out", str(sample_out), "--force"],
                              repeat=5),
                "imports": wall([sys.executable, "-c", FLOOR_IMPORTS], repeat=5),
                "commit": commit,
            }
            summary = json.loads((sample_out / "summary.json").read_text(encoding="utf-8"))
            results["cli"]["highs"] = summary["seconds"]["solve"]
    results["figures"] = figures(results)
    text = table(results)
    results["table"] = text
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
