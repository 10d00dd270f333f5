"""Helpers shared by the benchmark scripts (run as ``python benchmarks/x.py``)."""

import datetime
import json
import os
import platform
from pathlib import Path

import keras
import tensorflow as tf


def markdown_table(rows, header):
    """Formats ``rows`` (sequences of cells) under ``header`` as a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line():
    """One Markdown bullet naming the date, the machine and the library versions."""
    gpus = len(tf.config.list_physical_devices("GPU"))
    return (
        f"- Date: {datetime.date.today().isoformat()}; machine: {os.cpu_count()} CPU cores "
        f"({platform.machine()}), {f'{gpus} GPU(s)' if gpus else 'no GPU'}; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}."
    )


def write_results(path, title, *blocks):
    """Writes a results page (``# title``, then the Markdown ``blocks`` separated by blank lines)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([f"# {title}", *blocks]) + "\n")
    print(f"\nWrote {path}")


def results_of(args, run):
    """The raw results: read from ``args.report_from`` (nothing measured), else ``run()``, saved as JSON.

    The JSON goes next to ``args.out`` (same stem), so that ``--report-from`` can write the page
    again, byte for byte, without measuring.
    """
    if args.report_from is not None:
        return json.loads(args.report_from.read_text())
    results = run()
    json_path = Path(args.out).with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    return results


def report_main(argv, parse_args, run, report, title):
    """The ``main`` of a benchmark: parse ``argv``, measure (or read ``--report-from``), print and write the page.

    ``run(args)`` returns the raw results (JSON-serializable), ``report(results)`` the page's Markdown blocks.
    """
    args = parse_args(argv)
    blocks = report(results_of(args, lambda: run(args)))
    print("\n\n".join(blocks))
    write_results(args.out, title, *blocks)
