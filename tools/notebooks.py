"""Builds and checks the tutorial notebooks.

Each tutorial is a jupytext percent script ``tutorials/NN_topic.py`` (the
source of truth) paired with ``tutorials/NN_topic.ipynb``, which is committed
with the outputs of a full run so that readers of the docs see the plots.

Usage (from the repository root):

```
python tools/notebooks.py build tutorials/01_what_is_an_autoencoder.py [...]
python tools/notebooks.py check
```

``build`` converts each script to a notebook, executes it in full mode
(``KERAS_AE_SMOKE`` removed from the kernel's environment) with nbclient in
``tutorials/``, strips every stderr output and any TensorFlow C++ log line,
keeps rich outputs (plots), records the wall time of the run in the
notebook metadata (``metadata.keras_ae.full_run_seconds``) and prints a
report. ``check`` exits non-zero if a script has no notebook, if the cells of
a pair differ, if a notebook was not executed or stores stderr/log noise.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
SCRIPT_GLOB = "[0-9][0-9]_*.py"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_TIMEOUT = 3600  # seconds per cell; full runs train models.
KERNEL = "python3"
METADATA_KEY = "keras_ae"

# Lines written by TensorFlow / XLA / absl C++ code (and CUDA probing) that
# end up in captured outputs. They are noise on a docs page.
TF_NOISE = re.compile(
    r"^\s*("
    r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # absl: I0000 00:00:1763...  123 file.cc:12]
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "  # TF: 2024-01-01 00:00:00.0: I tensorflow/...
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|WARNING:tensorflow:"  # Python-side TF warnings, written to stdout in a kernel
    r"|.*oneDNN custom operations are on"
    r"|.*TF_ENABLE_ONEDNN_OPTS"
    r"|.*Unable to register cu(DNN|FFT|BLAS) factory"
    r"|.*failed call to cuInit"
    r"|.*Could not find cuda drivers"
    r"|.*cuda_(dnn|fft|blas|executor|diagnostics)\.cc"
    r"|.*This TensorFlow binary is optimized to use available CPU instructions"
    r"|.*To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r"|.*computation placer already registered"
    r"|.*All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r")"
)


def _is_noise(line):
    return bool(TF_NOISE.match(line))


def read_script(path):
    """Returns the notebook jupytext parses from a percent script."""
    return jupytext.read(str(path))


def cell_signature(nb):
    """Returns the (cell type, source) pairs that a pair must share.

    Both sides are read through jupytext so that its normalisation (for
    example of trailing blank lines) applies to both.
    """
    return [(c.cell_type, c.source.strip("\n")) for c in nb.cells]


def _paired_signature(ipynb_path):
    return cell_signature(jupytext.read(str(ipynb_path)))


def _clean_text(text):
    kept = [line for line in text.splitlines(keepends=True) if not _is_noise(line)]
    return "".join(kept)


def strip_noise(nb):
    """Removes stderr streams and TensorFlow log lines from ``nb`` in place.

    Returns:
        The number of outputs removed.
    """
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if out.name == "stderr":
                    removed += 1
                    continue
                out.text = _clean_text(out.text)
                if not out.text:
                    removed += 1
                    continue
            outputs.append(out)
        cell.outputs = outputs
        cell.metadata.pop("execution", None)
    return removed


def kernel_env():
    """Returns the environment of a full-mode kernel."""
    env = dict(os.environ)
    env.pop("KERAS_AE_SMOKE", None)
    # A non-inline backend (conftest sets Agg for pytest) would hide the plots.
    env.pop("MPLBACKEND", None)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def _count_images(nb):
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "data" in o and any(k.startswith("image/") for k in o.data)
    )


def build(path, *, timeout=DEFAULT_TIMEOUT, kernel_name=KERNEL):
    """Converts one percent script to a notebook and executes it in full mode.

    Args:
        path: The ``tutorials/NN_topic.py`` script (an ``.ipynb`` path is
            mapped to its script).
        timeout: Seconds allowed per cell.
        kernel_name: The Jupyter kernel to run.

    Returns:
        A dict with the notebook path, wall time (s), cell, image and
        removed-output counts.

    Raises:
        nbclient.exceptions.CellExecutionError: If a cell fails; the
            notebook is not written then.
    """
    from nbclient import NotebookClient

    script = Path(path).resolve().with_suffix(".py")
    if not script.exists():
        raise FileNotFoundError(f"No tutorial script {script}")
    target = script.with_suffix(".ipynb")
    nb = read_script(script)
    nb.metadata = {
        "kernelspec": {
            "name": kernel_name,
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(script.parent)}},
    )
    start = time.perf_counter()
    client.execute(env=kernel_env(), cwd=str(script.parent))
    seconds = time.perf_counter() - start
    removed = strip_noise(nb)
    nb.metadata[METADATA_KEY] = {"full_run_seconds": round(seconds, 1)}
    nbformat.validate(nb)
    nbformat.write(nb, str(target))
    return {
        "notebook": target,
        "seconds": seconds,
        "cells": len(nb.cells),
        "images": _count_images(nb),
        "removed": removed,
    }


def check_pair(script):
    """Returns the problems of one script/notebook pair (empty if in sync)."""
    script = Path(script)
    nbpath = script.with_suffix(".ipynb")
    rel = _rel(script)
    if not nbpath.exists():
        return [f"{rel}: no paired notebook {nbpath.name} (run: python tools/notebooks.py build {rel})"]
    problems = []
    if cell_signature(read_script(script)) != _paired_signature(nbpath):
        problems.append(
            f"{_rel(nbpath)}: cells differ from {script.name} (rebuild: python tools/notebooks.py build {rel})"
        )
    nb = nbformat.read(str(nbpath), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if not any(c.get("outputs") for c in code):
        problems.append(f"{_rel(nbpath)}: stores no outputs (it must carry a full run)")
    unexecuted = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None
    ]
    if unexecuted:
        problems.append(f"{_rel(nbpath)}: cells {unexecuted} were not executed")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                problems.append(f"{_rel(nbpath)}: cell {i} stores a stderr output")
            elif out.output_type == "stream" and any(_is_noise(line) for line in out.text.splitlines()):
                problems.append(f"{_rel(nbpath)}: cell {i} stores TensorFlow log lines")
            elif out.output_type == "error":
                problems.append(f"{_rel(nbpath)}: cell {i} stores an error")
    return problems


def check(root=ROOT):
    """Returns the problems of every tutorial pair under ``root/tutorials``."""
    tutorials = Path(root) / "tutorials"
    problems = []
    for script in sorted(tutorials.glob(SCRIPT_GLOB)):
        problems.extend(check_pair(script))
    for nbpath in sorted(tutorials.glob(NOTEBOOK_GLOB)):
        if not nbpath.with_suffix(".py").exists():
            problems.append(f"{_rel(nbpath)}: no source script {nbpath.with_suffix('.py').name}")
    return problems


def wall_times(root=ROOT):
    """Returns {notebook name: full-run seconds} as recorded by ``build``."""
    times = {}
    for nbpath in sorted((Path(root) / "tutorials").glob(NOTEBOOK_GLOB)):
        nb = nbformat.read(str(nbpath), as_version=4)
        times[nbpath.name] = nb.metadata.get(METADATA_KEY, {}).get("full_run_seconds")
    return times


def _rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tools/notebooks.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="convert scripts to notebooks and execute them in full mode")
    p_build.add_argument("scripts", nargs="+", help="tutorials/NN_topic.py files")
    p_build.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    p_build.add_argument("--kernel", default=KERNEL, help="Jupyter kernel name")
    sub.add_parser("check", help="verify every script/notebook pair is in sync and executed")
    sub.add_parser("times", help="print the recorded full-run wall time of every notebook")
    args = parser.parse_args(argv)

    if args.command == "build":
        from nbclient.exceptions import CellExecutionError

        status = 0
        for path in args.scripts:
            print(f"building {path} ...", flush=True)
            try:
                r = build(path, timeout=args.timeout, kernel_name=args.kernel)
            except CellExecutionError as err:
                print(f"FAILED {path}: a cell raised; notebook not written.\n{err}", flush=True)
                status = 1
                continue
            print(
                f"{_rel(r['notebook'])}: full run {r['seconds']:.1f} s wall time, "
                f"{r['cells']} cells, {r['images']} images, "
                f"{r['removed']} stderr/log outputs stripped",
                flush=True,
            )
        return status
    if args.command == "check":
        problems = check()
        for line in problems:
            print(line)
        n = len(list(TUTORIALS.glob(SCRIPT_GLOB)))
        print(f"{n} tutorials checked: {'OK' if not problems else f'{len(problems)} problems'}")
        return 1 if problems else 0
    if args.command == "times":
        for name, seconds in wall_times().items():
            print(f"{name}: {seconds if seconds is not None else 'unknown'} s")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
