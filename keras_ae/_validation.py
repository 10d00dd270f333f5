"""One place to validate user-facing options, with one message format.

Every check raises ``ValueError`` worded as
``Invalid value for 'name': expected <expectation>. Received: name=<value>``,
so every builder, layer and loader fails the same clear way.
"""

import difflib
import math
import numbers

__all__ = [
    "check_choice",
    "check_float",
    "check_int",
    "check_int_tuple",
    "check_shape",
    "invalid",
    "suggest",
]


def invalid(name, expected, value, hint=""):
    """Returns the project's standard ``ValueError`` for a bad option."""
    message = f"Invalid value for '{name}': expected {expected}. Received: {name}={value!r}"
    if hint:
        message += f". {hint}"
    return ValueError(message)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name, value, *, minimum=1):
    """Checks that ``value`` is an integer ``>= minimum`` and returns it as ``int``."""
    if not _is_int(value) or value < minimum:
        expected = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise invalid(name, expected, value)
    return int(value)


def check_float(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Checks that ``value`` is a finite real number within the given bounds.

    Args:
        name: Option name used in the error message.
        value: The value received.
        low: Lower bound, or ``None`` for no lower bound.
        high: Upper bound, or ``None`` for no upper bound.
        low_open: Whether ``low`` itself is excluded.
        high_open: Whether ``high`` itself is excluded.

    Returns:
        ``value`` as a Python ``float``.
    """
    ok = _is_real(value) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            left = "(" if low_open else "["
            right = ")" if high_open else "]"
            expected = f"a number in {left}{low}, {high}{right}"
        elif low is not None:
            relation = ">" if low_open else ">="
            expected = f"a finite number {relation} {low}"
            if low == 0:
                expected = "a positive number" if low_open else "a non-negative number"
        elif high is not None:
            expected = f"a finite number {'<' if high_open else '<='} {high}"
        else:
            expected = "a finite number"
        raise invalid(name, expected, value)
    return float(value)


def suggest(value, choices):
    """Returns ``"Did you mean 'x'?"`` for the closest choice, or ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, choices, n=1)
    close = close or [c for c in sorted(choices) if c.startswith(value) or value.startswith(c)]
    return f"Did you mean '{close[0]}'?" if close else ""


def check_choice(name, value, choices):
    """Checks that ``value`` is one of ``choices``; suggests the closest one."""
    choices = sorted(choices)
    if value in choices:
        return value
    raise invalid(name, f"one of {choices}", value, suggest(value, choices))


def check_int_tuple(name, value, *, allow_empty=True):
    """Checks a tuple (or list) of positive integers and returns it as a tuple."""
    if isinstance(value, (list, tuple)) and all(_is_int(v) and v > 0 for v in value):
        if value or allow_empty:
            return tuple(int(v) for v in value)
    expected = "a tuple of positive integers"
    if not allow_empty:
        expected = "a non-empty tuple of positive integers"
    raise invalid(name, expected, value)


def check_shape(name, value, *, ndim=None):
    """Checks an input shape (a tuple of positive integers, no batch axis).

    Args:
        name: Option name used in the error message.
        value: The shape received.
        ndim: Required number of axes (an int or a tuple of allowed ints).

    Returns:
        The shape as a tuple of ints.
    """
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    ok = (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(_is_int(v) and v > 0 for v in value)
        and (allowed is None or len(value) in allowed)
    )
    if not ok:
        if allowed is None:
            expected = "a non-empty tuple of positive integers (no batch axis)"
        else:
            axes = " or ".join(str(n) for n in allowed)
            expected = f"a tuple of {axes} positive integers (no batch axis)"
        raise invalid(name, expected, value)
    return tuple(int(v) for v in value)
