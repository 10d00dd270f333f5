"""What keras_ae costs a user: start-up time, training time and memory, run times.

What: the wall time (and the CPU time and peak memory) of the commands a user
runs first, each in a fresh Python process started from ``sys.executable``
with ``TF_CPP_MIN_LOG_LEVEL=3``, repeated and summarized by the median and the
min-max:

1. ``python -c "import keras_ae"``, next to ``import keras`` and ``import
   tensorflow`` as reference points, and ``import keras_ae.models`` (what the
   first ``keras_ae.build`` pays: ``import keras_ae`` alone is lazy and does
   not load TensorFlow);
2. ``keras-ae list`` (the console script next to ``sys.executable``, else
   ``python -m keras_ae``);
3. ``keras-ae train vae --dataset digits`` (scikit-learn's bundled digits, no
   download) into a temporary directory, with its peak memory; the training
   seconds that the command prints are reported too;
4. the CI test suite: the ``python -m pytest ...`` command parsed from
   ``README.md``, run once in the repository root with ``--suite`` (or a time
   measured by ``.ci/run``, given with ``--suite-seconds``);
5. the full-run wall time of every other benchmark script, not measured but
   read from its results page ``benchmarks/results/<name>.md`` or, failing
   that, from its section of ``benchmarks/README.md`` (see
   ``RUN_TIME_PATTERNS``).

Peak memory is the maximum resident set size of the largest process in the
child's process tree, from ``os.wait4`` around that child alone (Linux reports
it in KiB; the page gives MiB), taken in a small launcher process (``python
-S``) that starts the child: on Linux a child's peak RSS starts at its
parent's RSS at the fork, and this script has TensorFlow loaded. CPU time is the child's user + system time
(its waited-for descendants included), less sensitive than wall time to other
jobs on the machine. The measured commands alternate round by round (one run
of each per round) so that load from other processes hits them alike; before
the first round one untimed ``import keras_ae.models`` warms the file cache
(not in ``--smoke``).

Why: the README quotes such costs ("about 13 s ... peak memory of about
1 GB"); this script measures them again, with the machine they ran on, so a
reader can check them and see what keras_ae adds to Keras and TensorFlow.

Usage::

    python benchmarks/costs.py                         # about 4 minutes on 2 cores
    python benchmarks/costs.py --suite                 # also runs the CI suite once
    python benchmarks/costs.py --suite-seconds 840     # a time printed by .ci/run
    python benchmarks/costs.py --smoke --out /tmp/costs.md
    python benchmarks/costs.py --report-from benchmarks/results/costs.json

The table is printed and written as Markdown to ``--out``
(``benchmarks/results/costs.md`` by default), the raw numbers as JSON next to
it; ``--report-from`` writes the page again from such a JSON, byte for byte,
without measuring.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from _common import machine_line, markdown_table, results_of, write_results  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DEFAULT_OUT = RESULTS / "costs.md"
#: Scripts in benchmarks/ that are not benchmarks (helpers start with "_").
NOT_BENCHMARKS = ("costs.py",)
CHILD_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
#: The CLI's default on digits, the command the README times ("keras-ae train vae").
TRAIN_EPOCHS = 30

#: How a results page states a run's total time. A number with its unit, in
#: hours, minutes or seconds, optionally preceded by "about" or "~":
_DURATION = (r"(?P<about>about\s+|~\s*)?(?P<value>\d+(?:\.\d+)?)\s*"
             r"(?P<unit>hours?|h|minutes?|min|seconds?|sec|s)\b")
#: Tried in this order on a text; the first match wins:
RUN_TIME_PATTERNS = (
    # "whole run 21.5 min", "the whole run took about 7 minutes", "full run time: 3 h"
    re.compile(r"\b(?:whole|full|total|entire)\s+run(?:\s+time)?(?:\s+(?:took|takes|was|is|of))?[:\s]*"
               + _DURATION, re.IGNORECASE),
    # "total time 29.9 min", "Total wall time: 14.5 min"
    re.compile(r"\btotal\s+(?:run\s+|wall\s+)?time(?:\s+(?:was|is|of))?[:\s]*" + _DURATION, re.IGNORECASE),
    # a heading whose parenthesis ends with the time: "### Latest results (2026-11-29; ...; 14.5 min)"
    re.compile(r"^#+ [^\n]*\([^\n]*[;,]\s*" + _DURATION + r"\)[ \t]*$", re.MULTILINE),
    # a usage line's estimate: "the full run (about 15 minutes on 2 cores)"
    re.compile(r"\bfull\s+run\W{0,3}\(\s*" + _DURATION, re.IGNORECASE),
)
_MINUTES_PER_UNIT = {"h": 60.0, "m": 1.0, "s": 1 / 60}
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _match_run_time(text):
    for pattern in RUN_TIME_PATTERNS:
        match = pattern.search(text)
        if match:
            minutes = float(match["value"]) * _MINUTES_PER_UNIT[match["unit"][0].lower()]
            quote = " ".join(match.group(0).lstrip("#").split())
            return match.start(), {"minutes": minutes, "approx": bool(match["about"]), "quote": quote}
    return None, None


def find_run_time(text):
    """The total run time a text states, or None.

    Returns ``{"minutes": float, "approx": bool, "quote": str}``: the first
    match of ``RUN_TIME_PATTERNS`` (in their order), converted to minutes;
    ``approx`` is True when the text says "about" (or "~"); ``quote`` is the
    matched words, whitespace collapsed.
    """
    return _match_run_time(text)[1]


def readme_section(readme_text, script):
    """The section of benchmarks/README.md about ``script`` ("## `script`..." to the next "## "), or ""."""
    match = re.search(rf"^## `{re.escape(script)}`.*?(?=^## |\Z)", readme_text, re.MULTILINE | re.DOTALL)
    return match.group(0) if match else ""


def benchmark_run_times(benchmarks_dir=HERE):
    """One entry per benchmark script: its full-run time as its results page or the README states it."""
    readme_path = benchmarks_dir / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    entries = []
    for path in sorted(benchmarks_dir.glob("*.py")):
        if path.name.startswith("_") or path.name in NOT_BENCHMARKS:
            continue
        page_path = benchmarks_dir / "results" / f"{path.stem}.md"
        page = page_path.read_text(encoding="utf-8") if page_path.is_file() else None
        page_date = _DATE.search(page[page.find("Date:"):]) if page and "Date:" in page else None
        entry = {"script": path.name, "page": f"results/{path.stem}.md", "page_exists": page is not None,
                 "source": None, "date": page_date.group(1) if page_date else None, "run_time": None}
        found = find_run_time(page) if page else None
        if found:
            entry.update(source=entry["page"], run_time=found)
        else:
            section = readme_section(readme, path.name)
            start, found = _match_run_time(section)
            if found:
                # The date of the README's last dated heading up to the statement, else the page's.
                upto = section[:section.find("\n", start) if "\n" in section[start:] else len(section)]
                headings = [line for line in upto.splitlines() if line.startswith("#") and _DATE.search(line)]
                if headings:
                    entry["date"] = _DATE.search(headings[-1]).group(1)
                entry.update(source="benchmarks/README.md", run_time=found)
        entries.append(entry)
    return entries


def readme_test_command(readme_text):
    """The ``python -m pytest ...`` command of README.md (the first line that starts with it)."""
    match = re.search(r"^[ \t]*(python -m pytest\b[^\n]*?)[ \t]*$", readme_text, re.MULTILINE)
    if not match:
        raise ValueError("README.md has no line starting with `python -m pytest`")
    return match.group(1)


def keras_ae_command():
    """The ``keras-ae`` console script next to ``sys.executable``, else ``python -m keras_ae``."""
    script = Path(sys.executable).parent / "keras-ae"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)], "keras-ae"
    return [sys.executable, "-m", "keras_ae"], "python -m keras_ae"


#: Runs one command and writes its costs as JSON (argv: stdout file, stderr file, JSON file, command...).
#: It is started with ``python -S`` as a small process of its own because on Linux a child's peak RSS
#: starts at its parent's RSS at the fork: started from this script, which has TensorFlow loaded (for
#: ``machine_line``), every child would show at least this script's ~700 MiB. The launcher's own peak
#: (``VmHWM``, about 10 MiB) is the floor of the figures; it is recorded as ``floor_mib``.
LAUNCHER = r"""
import json, os, subprocess, sys, time
out, err, result, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
floor = None
if os.path.exists("/proc/self/status"):
    with open("/proc/self/status") as status:
        floor = next((int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:")), None)
with open(out, "wb") as o, open(err, "wb") as e:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: Popen must not wait again
# Linux reports ru_maxrss in KiB, macOS in bytes.
rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
with open(result, "w") as f:
    json.dump({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "maxrss_mib": rss,
               "returncode": proc.returncode, "floor_mib": floor}, f)
"""


def run_child(argv, cwd):
    """Runs ``argv`` once through ``LAUNCHER``: wall and CPU seconds, peak RSS (MiB), exit status, output."""
    with tempfile.TemporaryDirectory() as tmp:
        out, err, result = (os.path.join(tmp, name) for name in ("stdout", "stderr", "result.json"))
        launcher = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, out, err, result, *argv],
                                  cwd=cwd, env=CHILD_ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if launcher.returncode != 0 or not os.path.isfile(result):
            raise SystemExit(f"the launcher failed on {argv}:\n{launcher.stderr[-3000:]}")
        with open(result) as f:
            costs = json.load(f)
        costs["stdout"] = Path(out).read_text(errors="replace")
        costs["stderr"] = Path(err).read_text(errors="replace")
    return costs


def _checked(run, label):
    if run["returncode"] != 0:
        raise SystemExit(f"{label} failed (exit status {run['returncode']}):\n{run['stdout'][-2000:]}\n"
                         f"{run['stderr'][-3000:]}")
    return {k: run[k] for k in ("seconds", "cpu_seconds", "maxrss_mib", "floor_mib")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each import and of `keras-ae list` (default 5)")
    parser.add_argument("--train-repeats", type=int, default=3, help="runs of `keras-ae train vae` (default 3)")
    parser.add_argument("--train-epochs", type=int, default=TRAIN_EPOCHS,
                        help=f"epochs of `keras-ae train vae` on digits (default {TRAIN_EPOCHS}, the CLI's "
                        "default on digits, i.e. the command the README times)")
    suite = parser.add_mutually_exclusive_group()
    suite.add_argument("--suite", action="store_true",
                       help="also run README.md's test command once in the repository root and time it")
    suite.add_argument("--suite-seconds", type=float, default=None, metavar="N",
                       help="the suite's wall time measured elsewhere (the 'CI tests took N s' of .ci/run)")
    parser.add_argument("--smoke", action="store_true",
                        help="quick check: 1 run of each, 1 training epoch, no warm-up, no suite")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--report-from", type=Path, default=None,
                        help="write the page from this JSON of raw results, without measuring")
    args = parser.parse_args(argv)
    if args.smoke:
        if args.suite:
            parser.error("--smoke does not run the suite (drop --suite)")
        args.repeats = args.train_repeats = args.train_epochs = 1
    for name in ("repeats", "train_repeats", "train_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.suite_seconds is not None and not args.suite_seconds > 0:
        parser.error("--suite-seconds must be a positive number")
    if args.report_from is not None and not args.report_from.is_file():
        parser.error(f"--report-from: no such file: {args.report_from}")
    return args


def figures(train_epochs, train_dir):
    """(key, label, argv, shown command) of each measured figure, in the order of the table."""
    cli, cli_name = keras_ae_command()
    python = [sys.executable, "-c"]
    train = ["train", "vae", "--dataset", "digits", "--epochs", str(train_epochs)]
    return [
        ("import_keras_ae", "`import keras_ae`", [*python, "import keras_ae"], 'python -c "import keras_ae"'),
        ("import_keras", "`import keras` (reference)", [*python, "import keras"], 'python -c "import keras"'),
        ("import_tensorflow", "`import tensorflow` (reference)", [*python, "import tensorflow"],
         'python -c "import tensorflow"'),
        ("import_keras_ae_models", "`import keras_ae.models` (what the first `build` loads)",
         [*python, "import keras_ae.models"], 'python -c "import keras_ae.models"'),
        ("list", "`keras-ae list`", [*cli, "list"], f"{cli_name} list"),
        ("train", f"`keras-ae train vae` (digits, {train_epochs} epoch{'s' if train_epochs > 1 else ''})",
         [*cli, *train, "--out", str(train_dir)], f"{cli_name} {' '.join(train)} --out TMPDIR"),
    ]


def run(args):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    suite_command = readme_test_command(readme)
    results = {"smoke": args.smoke, "machine": machine_line(), "python": platform.python_version(),
               "args": {"repeats": args.repeats, "train_repeats": args.train_repeats,
                        "train_epochs": args.train_epochs, "warmup": not args.smoke},
               "load_start": os.getloadavg()[0], "figures": [], "train_printed_seconds": []}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        specs = figures(args.train_epochs, work / "run")
        if not args.smoke:
            print("Warm-up: import keras_ae.models (untimed)", flush=True)
            _checked(run_child([sys.executable, "-c", "import keras_ae.models"], work), "warm-up")
        runs = {key: [] for key, *_ in specs}
        for round_ in range(max(args.repeats, args.train_repeats)):
            for key, label, argv, _ in specs:
                if round_ >= (args.train_repeats if key == "train" else args.repeats):
                    continue
                child = run_child(argv, work)
                runs[key].append(_checked(child, label))
                if key == "train":
                    printed = re.search(r"\bin (\d+(?:\.\d+)?) s:", child["stdout"])
                    results["train_printed_seconds"].append(float(printed.group(1)) if printed else None)
                    shutil.rmtree(work / "run", ignore_errors=True)
                elif key == "list" and not child["stdout"].strip():
                    raise SystemExit("keras-ae list printed nothing")
                print(f"round {round_ + 1}: {label}: {child['seconds']:.2f} s, "
                      f"{child['maxrss_mib']:.0f} MiB", flush=True)
    results["figures"] = [{"key": key, "label": label, "command": shown, "runs": runs[key]}
                          for key, label, _, shown in specs]
    results["suite"] = {"command": suite_command, "source": None}
    if args.suite:
        argv = [sys.executable if word == "python" else word for word in shlex.split(suite_command)]
        print(f"Running the suite: {suite_command}", flush=True)
        child = run_child(argv, REPO)
        lines = [line for line in child["stdout"].splitlines() if line.strip()]
        results["suite"].update(source="measured", seconds=child["seconds"], cpu_seconds=child["cpu_seconds"],
                                maxrss_mib=child["maxrss_mib"], returncode=child["returncode"],
                                summary=lines[-1].strip("= ") if lines else "")
    elif args.suite_seconds is not None:
        results["suite"].update(source="ci", seconds=args.suite_seconds)
    results["benchmarks"] = benchmark_run_times()
    results["load_end"] = os.getloadavg()[0]
    return results


def _seconds(value):
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _summary(values):
    """Median and min-max cells of a list of seconds."""
    return _seconds(statistics.median(values)), f"{_seconds(min(values))}–{_seconds(max(values))}"


def report(results):
    rows = []
    medians = {}
    for figure in results["figures"]:
        seconds = [r["seconds"] for r in figure["runs"]]
        medians[figure["key"]] = statistics.median(seconds)
        rows.append([figure["label"], *_summary(seconds), len(seconds),
                     _seconds(statistics.median(r["cpu_seconds"] for r in figure["runs"])),
                     f"{statistics.median(r['maxrss_mib'] for r in figure['runs']):.0f}",
                     f"`{figure['command']}`"])
        if figure["key"] == "train":
            printed = [s for s in results["train_printed_seconds"] if s is not None]
            if printed:
                rows.append(["of which training (as `keras-ae train` prints it)", *_summary(printed),
                             len(printed), "-", "-", "the `Trained ... in N s` line of the command's output"])
    suite = results["suite"]
    command = f"`{suite['command']}` (from README.md)"
    if suite["source"] == "measured":
        rows.append(["CI suite (README's test command)", _seconds(suite["seconds"]), "-", 1,
                     _seconds(suite["cpu_seconds"]), f"{suite['maxrss_mib']:.0f}",
                     f"{command}, run here in the repository root: exit status {suite['returncode']}"
                     f"{'; ' + suite['summary'] if suite['summary'] else ''}"])
    elif suite["source"] == "ci":
        rows.append(["CI suite (README's test command)", _seconds(suite["seconds"]), "-", 1, "-", "-",
                     f"{command}, time measured by `.ci/run` (fresh virtualenv), passed with `--suite-seconds`"])
    else:
        rows.append(["CI suite (README's test command)", "not measured (run with --suite)", "-", "-", "-", "-",
                     command])
    table = markdown_table(rows, ["Figure", "Median (s)", "Min–max (s)", "Runs", "CPU, median (s)",
                                  "Peak memory, median (MiB)", "Command and notes"])

    bench_rows = []
    for entry in results["benchmarks"]:
        found = entry["run_time"]
        if found:
            cell = f"{'about ' if found['approx'] else ''}{found['minutes']:.3g} min"
            source = f"{entry['source']}: \"{found['quote']}\""
        elif entry["page_exists"]:
            cell, source = f"not recorded in {entry['page']}", "-"
        else:
            cell, source = f"not recorded (no {entry['page']})", "-"
        bench_rows.append([f"`{entry['script']}`", cell, entry["date"] or "-", source])
    benchmarks = markdown_table(bench_rows, ["Benchmark", "Full run (wall time)", "Date of the run", "Stated in"])

    a = results["args"]
    floors = [r["floor_mib"] for f in results["figures"] for r in f["runs"] if r.get("floor_mib")]
    floor = statistics.median(floors) if floors else None
    added = medians["import_keras_ae_models"] - medians["import_keras"]
    lazy = (f"- `import keras_ae` alone does not load TensorFlow (median {_seconds(medians['import_keras_ae'])} s "
            f"against {_seconds(medians['import_tensorflow'])} s for `import tensorflow`). What keras_ae adds to "
            f"Keras's import at the first `build` is `import keras_ae.models` minus `import keras`: {added:+.2f} s "
            "(difference of the medians; compare it with their min–max, the run-to-run noise).")
    setup = [
        results["machine"],
        f"- Python {results['python']}; load average (1 min) {results['load_start']:.1f} at the start, "
        f"{results['load_end']:.1f} at the end (other jobs share the machine when it is above 0).",
        f"- Each figure in a fresh process (`sys.executable`, `TF_CPP_MIN_LOG_LEVEL=3`), {a['repeats']} run(s) "
        f"of each import and of `keras-ae list`, {a['train_repeats']} of `keras-ae train vae`, in alternating "
        "rounds; " + ("one untimed `import keras_ae.models` first (warm file cache)." if a["warmup"] else
                      "no warm-up run."),
        "- Wall time: `time.perf_counter` around the child; CPU: its user + system time; peak memory: the "
        "maximum resident set size of the largest process of the child's tree, from `os.wait4` (KiB, shown in "
        "MiB) in a small launcher process (`python -S`) that starts the child, since on Linux a child's peak "
        "RSS starts at its parent's at the fork" + (f"; the launcher's own peak, {floor:.0f} MiB, is the floor "
                                                    "of the column." if floor else "."),
        lazy,
        "- Full runs of the benchmarks: not measured here, quoted from their results pages (or "
        "`benchmarks/README.md`); their dates and machines may differ from this run's.",
    ]
    if results["smoke"]:
        setup.insert(0, "- **Smoke run** (1 run of each, 1 training epoch): not a measurement.")
    return [table, "## Full runs of the benchmarks", benchmarks, "\n".join(setup)]


def main(argv=None):
    args = parse_args(argv)
    results = results_of(args, lambda: run(args))
    blocks = report(results)
    print()
    print("\n\n".join(blocks))
    write_results(args.out, "What keras_ae costs: start-up, training, memory, run times", *blocks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
