"""The engine on PSPLIB instances with known optima (tests/data/psplib, see SOURCES.md there): readers, budgets,
forward–backward improvement, and `sapper bench psplib` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sapper.cli import app
from sapper.errors import ImportFileError
from sapper.io.psplib import Reference, read_instance, read_references
from sapper.plan import Objective, SolveParams, Status, check, objective_value, solve
from sapper.plan.greedy import justify, longest_tail_rule, serial_sgs
from sapper.services.bench import compare, instance_files, run_psplib, summarise

DATA = Path(__file__).resolve().parents[1] / "data" / "psplib"
OPTIMA = {"j301_1.sm": 43, "j3011_1.sm": 54, "j3021_1.sm": 84, "j3041_1.sm": 86,
          "j1010_1.mm": 17, "j1011_4.mm": 23, "j1020_1.mm": 12, "j1030_1.mm": 16, "j1064_1.mm": 16}


def test_single_mode_instance_reads_as_a_makespan_problem() -> None:
    p = read_instance(DATA / "j301_1.sm")
    assert len(p.tasks) == 32  # 30 jobs and the two dummies
    assert [r.capacity for r in p.resources] == [12, 13, 4, 12]
    assert all(r.renewable for r in p.resources)
    assert p.objective is Objective.MAKESPAN
    assert p.tasks[0].modes[0].duration == 0 and p.tasks[-1].modes[0].duration == 0
    assert {(q.pred, q.succ) for q in p.precedences if q.pred == 0} == {(0, 1), (0, 2), (0, 3)}
    # job 2 (index 1): duration 8, 4 units of R1 in the file
    assert p.tasks[1].modes[0].duration == 8 and p.tasks[1].modes[0].demands == ((0, 4),)


def test_multi_mode_instance_has_budgets() -> None:
    p = read_instance(DATA / "j1010_1.mm")
    assert [r.renewable for r in p.resources] == [True, True, False, False]
    assert [r.capacity for r in p.resources] == [11, 9, 42, 17]
    assert p.non_renewable == (2, 3)
    assert len(p.tasks[1].modes) == 3


def test_a_mode_beyond_capacity_is_left_out() -> None:
    # j1011_4.mm: job 9's second mode asks 10 units of R1, which has 9; its other two modes remain.
    p = read_instance(DATA / "j1011_4.mm")
    assert [m.name for m in p.tasks[8].modes] == ["mode 1", "mode 3"]


def test_unreadable_instance_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "broken.sm"
    bad.write_text("not a psplib file\n")
    with pytest.raises(ImportFileError, match=r"broken\.sm"):
        read_instance(bad)


def test_reference_tables_and_csv_are_read_and_merged(tmp_path: Path) -> None:
    refs = read_references(DATA)
    assert {k: v.optimum for k, v in refs.items() if k in OPTIMA} == OPTIMA
    (tmp_path / "set.csv").write_text(
        "Title;X\nID;Ref1;LB value;UB value;OPT value;CPM\n"
        "1;a11_1.sm;84;87;0;59\n2;a11_2.sm;77;77;77;70,0\n3;a11_3.sm;0;;0;0\n", encoding="cp1252")
    # a PSPLIB table names instance <set><parameter>_<instance>: a1, parameter 1, instance 1 -> a11_1.sm
    (tmp_path / "a1hrs.sm").write_text("Par Inst Makespan\n------\n1\t1\t86\t\tdate\n")
    csv_refs = read_references(tmp_path)
    assert csv_refs["a11_1.sm"] == Reference(lower=84, upper=86, optimum=None, critical_path=59)  # hrs improves UB
    assert csv_refs["a11_1.sm"].best_known == 86
    assert csv_refs["a11_2.sm"].optimum == 77 and csv_refs["a11_2.sm"].critical_path == 70
    assert csv_refs["a11_3.sm"].best_known is None


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_engine_reaches_the_known_optimum_and_proves_no_better(name: str) -> None:
    p = read_instance(DATA / name)
    r = solve(p, params=SolveParams(time_limit_s=10, workers=2))
    assert r.schedule is not None and check(p, r.schedule) == []
    assert r.objective == OPTIMA[name]
    # a claimed optimum is never worse than the known one, and the bound never above it
    assert r.lower_bound is not None and r.lower_bound <= OPTIMA[name]
    if r.status is Status.OPTIMAL:
        assert r.lower_bound == OPTIMA[name]


@pytest.mark.parametrize("name", ["j1010_1.mm", "j1011_4.mm", "j1020_1.mm", "j1030_1.mm", "j1064_1.mm"])
def test_greedy_respects_budgets(name: str) -> None:
    p = read_instance(DATA / name)
    s = serial_sgs(p, longest_tail_rule(p))
    assert check(p, s) == []
    for r in p.non_renewable:
        spent = sum(u for j, t in enumerate(p.tasks) for rr, u in t.modes[s.modes[j]].demands if rr == r)
        assert spent <= p.resources[r].capacity


def test_checker_refuses_a_broken_budget() -> None:
    p = read_instance(DATA / "j1010_1.mm")
    # the most expensive mode of every job for budget N3 overspends it
    modes = tuple(max(range(len(t.modes)), key=lambda m, t=t: dict(t.modes[m].demands).get(2, 0)) for t in p.tasks)
    spent = sum(dict(t.modes[m].demands).get(2, 0) for t, m in zip(p.tasks, modes, strict=True))
    assert spent > p.resources[2].capacity
    s = serial_sgs(p.replace(resources=tuple(r if r.renewable else r.__class__(r.name, 10**6, (), False)
                                             for r in p.resources)), [0.0] * len(p.tasks), modes)
    faults = check(p, s)
    assert any("non-renewable" in f.reason and "N3" in f.record for f in faults)


@pytest.mark.parametrize("name", ["j301_1.sm", "j3011_1.sm", "j3021_1.sm", "j3041_1.sm"])
def test_forward_backward_improvement_never_lengthens_a_plan(name: str) -> None:
    p = read_instance(DATA / name)
    for priority in (longest_tail_rule(p), [float(-j) for j in range(len(p.tasks))], [float(j) for j in
                                                                                       range(len(p.tasks))]):
        s = serial_sgs(p, priority)
        j = justify(p, s)
        assert check(p, j) == []
        assert objective_value(p, j) <= objective_value(p, s)


def test_bench_selects_by_pattern_and_limit_in_name_order() -> None:
    names = [f.name for f in instance_files(DATA)]
    assert names == ["j1010_1.mm", "j1011_4.mm", "j1020_1.mm", "j1030_1.mm", "j1064_1.mm",
                     "j3011_1.sm", "j301_1.sm", "j3021_1.sm", "j3041_1.sm"]
    assert [f.name for f in instance_files(DATA, "j30*.sm", 2)] == ["j3011_1.sm", "j301_1.sm"]
    with pytest.raises(ImportFileError, match="matches"):
        instance_files(DATA, "nothing*")


def test_bench_summary_counts_what_it_saw() -> None:
    report = run_psplib(DATA, pattern="j10*.mm", time_limit_s=5)
    s = report.summary
    assert s["count"] == 5 and s["at_reference"] == 5 and s["false_proofs"] == 0
    assert s["mean_deviation_pct"] == 0.0
    assert all(r.makespan == OPTIMA[r.name] for r in report.instances)


def test_compare_flags_a_false_proof_and_an_impossible_makespan() -> None:
    ref = Reference(lower=40, upper=43, optimum=43)
    honest = compare("a.sm", ref, makespan=43, proven_optimal=True, lower_bound=43, seconds=1.0, status="optimal")
    assert not honest.false_proof and not honest.impossible and honest.deviation_pct == 0.0
    claimed = compare("b.sm", ref, makespan=45, proven_optimal=True, lower_bound=45, seconds=1.0, status="optimal")
    assert claimed.false_proof and not claimed.impossible
    bound_too_high = compare("c.sm", ref, makespan=45, proven_optimal=False, lower_bound=44, seconds=1.0,
                             status="feasible")
    assert bound_too_high.false_proof
    below = compare("d.sm", ref, makespan=41, proven_optimal=False, lower_bound=None, seconds=1.0, status="feasible")
    assert below.impossible and not below.false_proof
    open_ref = Reference(lower=40, upper=43)  # no proven optimum: the lower bound is the floor
    assert compare("e.sm", open_ref, makespan=39, proven_optimal=False, lower_bound=None, seconds=1.0,
                   status="feasible").impossible
    assert not compare("f.sm", open_ref, makespan=41, proven_optimal=False, lower_bound=None, seconds=1.0,
                       status="feasible").impossible
    s = summarise([honest, claimed, bound_too_high, below])
    assert s["false_proofs"] == 2 and s["impossible"] == 1
    assert s["at_reference"] == 1  # an impossible makespan is not counted as reaching the reference


def test_bench_cli_writes_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "psplib", str(DATA), "--pattern", "j30*.sm", "--limit", "2",
                                      "--time-limit", "5", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["count"] == 2
    assert set(doc["summary"]) >= {"count", "at_reference", "mean_deviation_pct", "max_deviation_pct",
                                   "mean_seconds", "false_proofs"}
    first = doc["instances"][0]
    assert set(first) >= {"name", "makespan", "reference", "proven_optimal", "deviation_pct", "seconds"}
    assert first["name"] == "j3011_1.sm" and first["makespan"] == 54 and first["reference"] == 54


def test_bench_cli_on_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from sapper.cli import main

    argv = sys.argv
    sys.argv = ["sapper", "bench", "psplib", str(tmp_path / "nowhere")]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere" in err[0] and "not a folder" in err[0]
