"""Smoke test of ``benchmarks/costs.py`` (the cost figures a user reads), and of its run-time regexes.

The script runs as a subprocess with ``--smoke`` (one run of each command, one
training epoch on the bundled digits, no suite: no download, under ~90 s) and
must exit 0 and write its tables with finite positive figures. Timings are
noisy on a shared machine, so no ordering between them is asserted.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _benchmark_pages import finite as _finite
from _benchmark_pages import import_benchmark as _import_benchmark
from _benchmark_pages import table_rows as _table_rows

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
MEASURED = ("`import keras_ae`", "`import keras` (reference)", "`import tensorflow` (reference)",
            "`keras-ae list`")


def _run(script, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("costs") / "costs.md"
    stdout = _run("costs.py", "--smoke", "--out", str(out))
    assert out.is_file() and out.with_suffix(".json").is_file()
    return out, stdout


def _seconds(cells):
    """The median and min-max cells of a row: positive finite seconds, min <= median <= max."""
    median = _finite(cells[0])
    low, high = (_finite(c) for c in cells[1].split("–"))
    assert 0 < low <= median <= high
    return median


def test_costs_smoke_figures(smoke):
    out, stdout = smoke
    text = out.read_text()
    rows = _table_rows(text)
    for label in MEASURED:
        assert label in rows, f"no row {label!r} in:\n{text}"
        _seconds(rows[label])
        assert rows[label][2] == "1"  # runs: --smoke measures once
    train = next(cells for name, cells in rows.items() if name.startswith("`keras-ae train vae` (digits, 1 epoch"))
    _seconds(train)
    peak_mib = _finite(train[4])
    assert 0 < peak_mib < 24 * 1024
    assert _finite(train[3]) > 0  # CPU seconds
    training = rows["of which training (as `keras-ae train` prints it)"]
    _seconds(training)
    suite = rows["CI suite (README's test command)"]
    assert suite[0].startswith("not measured"), suite
    assert "python -m pytest" in suite[-1]
    assert "Smoke run" in text and "- Date: " in text
    assert "`keras-ae list`" in stdout


def test_costs_smoke_lists_every_benchmark(smoke):
    rows = _table_rows(smoke[0].read_text())
    scripts = [p.name for p in sorted(BENCHMARKS.glob("*.py")) if not p.name.startswith("_") and p.name != "costs.py"]
    assert scripts
    for script in scripts:
        cells = rows.get(f"`{script}`")
        assert cells is not None, f"no row for {script}"
        assert re.fullmatch(r"(about )?\d+(\.\d+)? min", cells[0]) or cells[0].startswith("not recorded"), cells


def test_costs_report_from_is_byte_identical(smoke, tmp_path):
    out, _ = smoke
    again = tmp_path / "again.md"
    _run("costs.py", "--report-from", str(out.with_suffix(".json")), "--out", str(again))
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("args", [
    ["--repeats", "0"], ["--train-repeats", "-1"], ["--train-epochs", "0"], ["--suite-seconds", "0"],
    ["--smoke", "--suite"], ["--suite", "--suite-seconds", "5"], ["--report-from", "no/such.json"],
])
def test_costs_rejects_bad_arguments(args, capsys):
    costs = _import_benchmark("costs")
    with pytest.raises(SystemExit) as exit_info:
        costs.parse_args(args)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("text, minutes, approx", [
    ("- CPU budget: DEC refinement 4024 steps (189 s, stopped by the 180.0 s cap); whole run 21.5 min.", 21.5, False),
    ("batch 128; total time 29.9 min; command: `python benchmarks/anomaly.py`.", 29.9, False),
    ("- Total time 14.5 min; command: `python benchmarks/generative.py`.", 14.5, False),
    ("`python benchmarks/hinton2006.py` (`results/hinton2006.md`; the whole run took\nabout 7 minutes):", 7.0, True),
    ("### Latest results (2026-11-29; 2 CPU cores shared with other jobs, no GPU; 14.5 min)", 14.5, False),
    ("python benchmarks/generative.py   # the full run (about 15 minutes on 2 cores)", 15.0, True),
    ("the whole run took 90 s", 1.5, False),
    ("Total time: 1.5 h", 90.0, False),
    ("7 alternating rounds of 30 steps, median step time 14.37 ms", None, None),
    ("(189 s, stopped by the 180.0 s cap)", None, None),
    ("### Latest results (2026-11-22, second session; idle machine, 2 CPU cores, no GPU)", None, None),
    ("total time 3 seeds", None, None),
])
def test_find_run_time(text, minutes, approx):
    costs = _import_benchmark("costs")
    found = costs.find_run_time(text)
    if minutes is None:
        assert found is None, found
    else:
        assert found is not None
        assert found["minutes"] == pytest.approx(minutes) and found["approx"] is approx
        assert "\n" not in found["quote"]


def test_readme_test_command_is_parsed():
    costs = _import_benchmark("costs")
    command = costs.readme_test_command((REPO / "README.md").read_text(encoding="utf-8"))
    assert command.startswith("python -m pytest")
    with pytest.raises(ValueError):
        costs.readme_test_command("no test command here")
