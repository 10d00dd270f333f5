"""Reading the Markdown tables that the benchmark scripts write, in their smoke tests."""

import math
import re

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
