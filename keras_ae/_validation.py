"""One place to validate user-facing options, with one message format.

Every check raises ``ValueError`` worded as
``Invalid value for 'name': expected <expectation>. Received: name=<value>``,
so every builder, layer and loader fails the same clear way.
"""

import difflib
import math
import numbers
import sys

__all__ = [
    "Boolean",
    "Constraint",
    "IntTuple",
    "Integer",
    "ModelOr",
    "Names",
    "OneOf",
    "OrNone",
    "Real",
    "RealTuple",
    "Shown",
    "Seed",
    "Shape",
    "check_array",
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


class Shown(str):
    """Text shown as is (no quotes) after ``Received:``, e.g. ``Shown("<array of shape (4, 2)>")``."""

    def __repr__(self):
        return str(self)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name, value, *, minimum=1, maximum=None):
    """Checks that ``value`` is an integer in ``[minimum, maximum]`` and returns it as ``int``."""
    if not _is_int(value) or value < minimum or (maximum is not None and value > maximum):
        expected = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        if maximum is not None:
            expected += f" at most {maximum}"
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
    # Case and surrounding spaces are not what a user means to vary.
    folded = {c.casefold(): c for c in sorted(choices) if isinstance(c, str)}
    key = value.strip().casefold()
    if key in folded:
        return f"Did you mean '{folded[key]}'?"
    close = [folded[c] for c in difflib.get_close_matches(key, list(folded), n=1)]
    close = close or [c for f, c in folded.items() if f.startswith(key) or key.startswith(f)]
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


# --------------------------------------------------------------------------
# Constraints declared as data (scikit-learn style): each builder declares
# one per option, `keras_ae.build` checks them all, and the bad-option tests
# are generated from `invalid_examples()`.


class Constraint:
    """An option's allowed values. Subclasses implement ``check`` and ``invalid_examples``."""

    def check(self, name, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def invalid_examples(self):
        """Values that ``check`` must refuse (used by the generated tests)."""
        return ()

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, repr(self)))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Integer(Constraint):
    """An integer ``>= minimum`` and, if ``maximum`` is given, ``<= maximum``."""

    def __init__(self, minimum=1, maximum=None):
        self.minimum, self.maximum = minimum, maximum

    def check(self, name, value):
        return check_int(name, value, minimum=self.minimum, maximum=self.maximum)

    def invalid_examples(self):
        return (self.minimum - 1, 2.5, "3", True) + (() if self.maximum is None else (self.maximum + 1,))

    def __repr__(self):
        maximum = "" if self.maximum is None else f", maximum={self.maximum!r}"
        return f"Integer(minimum={self.minimum!r}{maximum})"


class Real(Constraint):
    """A finite real number within optional bounds."""

    def __init__(self, low=None, high=None, low_open=False, high_open=False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def check(self, name, value):
        return check_float(name, value, low=self.low, high=self.high,
                           low_open=self.low_open, high_open=self.high_open)

    def invalid_examples(self):
        bad = [float("nan"), float("inf"), "0.5"]
        if self.low is not None:
            bad.append(self.low if self.low_open else self.low - 1)
        if self.high is not None:
            bad.append(self.high if self.high_open else self.high + 1)
        return tuple(bad)


class OneOf(Constraint):
    """One of a fixed set of values."""

    def __init__(self, *choices):
        self.choices = tuple(sorted(choices))

    def check(self, name, value):
        return check_choice(name, value, self.choices)

    def invalid_examples(self):
        return ("no_such_choice", 3)

    def __repr__(self):
        return f"OneOf{self.choices!r}"


class IntTuple(Constraint):
    """A tuple (or list) of positive integers."""

    def __init__(self, allow_empty=True):
        self.allow_empty = allow_empty

    def check(self, name, value):
        return check_int_tuple(name, value, allow_empty=self.allow_empty)

    def invalid_examples(self):
        return ((-1,), (0, 4), (2.5,), "16", 16) + (() if self.allow_empty else ((),))


class Shape(Constraint):
    """An input shape without the batch axis, optionally of a given rank."""

    def __init__(self, ndim=None):
        self.ndim = ndim

    def check(self, name, value):
        return check_shape(name, value, ndim=self.ndim)

    def invalid_examples(self):
        bad = [(), (0,), (-1, 4), "28,28"]
        if self.ndim is not None:
            bad.append((4,) * (self.ndim + 1))
        return tuple(bad)


class Boolean(Constraint):
    """``True`` or ``False``."""

    def check(self, name, value):
        if not isinstance(value, bool):
            raise invalid(name, "True or False", value)
        return value

    def invalid_examples(self):
        return ("yes", 1, None)


class Seed(Constraint):
    """``None`` or a non-negative integer seed."""

    def check(self, name, value):
        return None if value is None else check_int(name, value, minimum=0)

    def invalid_examples(self):
        return (-1, 1.5, "0")


class OrNone(Constraint):
    """``None`` or a value allowed by ``inner`` (``None`` means "the default of another option")."""

    def __init__(self, inner):
        self.inner = inner

    def check(self, name, value):
        if value is None:
            return None
        try:
            return self.inner.check(name, value)
        except ValueError as error:
            message = str(error).replace(": expected ", ": expected None or ", 1)
            raise ValueError(message) from None

    def invalid_examples(self):
        return tuple(x for x in self.inner.invalid_examples() if x is not None)


class Names(Constraint):
    """A non-empty tuple (or list) of distinct non-empty strings, e.g. layer names."""

    def check(self, name, value):
        if (isinstance(value, (list, tuple)) and value and all(isinstance(s, str) and s.strip() for s in value)
                and len(set(value)) == len(value)):
            return tuple(value)
        raise invalid(name, "a non-empty tuple of distinct names (strings)", value)

    def invalid_examples(self):
        return ((), "conv1", (1,), ("conv1", "conv1"), ("",))


class RealTuple(Constraint):
    """A non-empty tuple (or list) of finite real numbers, each within optional bounds (as :class:`Real`)."""

    def __init__(self, low=None, high=None, low_open=False, high_open=False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def check(self, name, value):
        element = Real(self.low, self.high, self.low_open, self.high_open)
        if isinstance(value, (list, tuple)) and value:
            try:
                return tuple(element.check(name, x) for x in value)
            except ValueError:
                pass
        try:
            element.check(name, float("nan"))  # the wording of one element's expectation
        except ValueError as error:
            each = str(error).split(": expected ", 1)[1].split(". Received: ", 1)[0]
        raise invalid(name, f"a non-empty tuple of numbers, each {each}", value)

    def invalid_examples(self):
        bad = [(), 0.5, (float("nan"),), ("0.5",)]
        if self.low is not None:
            bad.append((self.low if self.low_open else self.low - 1,))
        return tuple(bad)


class ModelOr(Constraint):
    """A ``keras.Model`` object, or a value allowed by ``inner`` (e.g. the name of a network to load).

    Checked without importing Keras: a value can only be a ``keras.Model`` once
    Keras is imported.
    """

    def __init__(self, inner):
        self.inner = inner

    def check(self, name, value):
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(value, keras.Model):
            return value
        try:
            return self.inner.check(name, value)
        except ValueError as error:
            message = str(error).replace(": expected ", ": expected a keras.Model or ", 1)
            raise ValueError(message) from None

    def invalid_examples(self):
        return (*self.inner.invalid_examples(), None)


def _describe(x):
    import numpy as np

    dtype = getattr(x, "dtype", None)
    dtype = getattr(dtype, "name", dtype)
    return f"<{dtype} array of shape {tuple(np.shape(x))}"


def check_array(name, x, *, finite=True, unit_interval=False):
    """Checks an array of data: finite values, and values in [0, 1] if asked.

    Args:
        name: Argument name used in the error message (``"x"``...).
        x: A NumPy array or tensor.
        finite: Refuse NaN and infinite values.
        unit_interval: Refuse values outside [0, 1] (the data of a
            Bernoulli likelihood).

    Returns:
        ``x`` unchanged.

    Raises:
        ValueError: With the count of bad values, or the range received
            and how to rescale.
    """
    import numpy as np

    values = np.asarray(x)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"Invalid value for '{name}': expected an array of numbers. "
                         f"Received: {name}={_describe(values)}>")
    if values.size == 0:
        return x
    if finite and values.dtype.kind == "f":
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        if bad:
            raise ValueError(f"Invalid value for '{name}': expected finite values. "
                             f"Received: {name}={_describe(values)} with {bad} NaN or infinite values>")
    if unit_interval:
        low, high = values.min(), values.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"Invalid value for '{name}': expected values in [0, 1] for a Bernoulli likelihood. "
                f"Received: {name}={_describe(values)} with values in [{low}, {high}]>. "
                "Rescale the data (e.g. x / 255 for 8-bit images) or build the model with "
                "likelihood='gaussian'"
            )
    return x
