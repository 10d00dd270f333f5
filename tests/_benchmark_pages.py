"""Helpers of the benchmark scripts' tests: import a script, read the Markdown tables it writes."""

import importlib.util
import math
import re
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def table_rows(markdown):
    """Maps the first cell of each Markdown table row to its other cells."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def finite(cell):
    """The number in a table cell, asserting that it is one and finite."""
    assert NUMBER.match(cell), f"not a number: {cell!r}"
    value = float(cell)
    assert math.isfinite(value)
    return value


def import_benchmark(name):
    """Imports ``benchmarks/<name>.py`` as a module (with ``benchmarks/`` on the path for ``_common``)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module
