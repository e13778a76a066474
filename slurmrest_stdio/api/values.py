"""How slurmrestd reads a path segment or a query value, so that odd values get its answers.

slurmrestd first guesses a type for every such value (YAML 1.1 style: ``yes`` is true,
``0011`` is 11, ``2.5`` is a decimal), and numbers then behave like the C types they end up
in. Version independent: every API version's operations read their parameters this way.
"""

from __future__ import annotations

import math
import re

from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: Slurm's ESLURM_REST_INVALID_QUERY
INVALID_QUERY = SlurmError("Query empty or not RFC7320 compliant", 9000)

# slurmrestd's value guessing (YAML 1.1 style): booleans, integers, decimals
_TRUE = re.compile(r"[Yy](?:|[eE][sS])|[tT](?:[rR][uU][eE]|)|[Oo][nN]")
_FALSE = re.compile(r"[nN](?:[Oo]|)|[fF](?:|[aA][lL][sS][eE])|[oO][fF][fF]")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?[0-9]*[.][0-9]*(?:|[eE][+-]?[0-9]+)")

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
#: what C's whitespace test (isspace) accepts, which strtol skips
C_SPACE = " \t\n\v\f\r"


def clamp_long(value: int) -> int:
    return max(LONG_MIN, min(LONG_MAX, value))


def round_long(value: float) -> int:
    """C's lrint(): round half to even; out of range (or not finite) gives LONG_MIN, as
    on x86."""
    if not math.isfinite(value):
        return LONG_MIN
    rounded = round(value)
    return rounded if LONG_MIN <= rounded <= LONG_MAX else LONG_MIN


def guess_value(text: str) -> bool | int | float | str | None:
    """The typed value slurmrestd makes of a path segment or query value."""
    if text == "":
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT.fullmatch(text):
        return clamp_long(int(text))
    if _FLOAT.fullmatch(text):
        try:
            return float(text)
        except ValueError:  # "-." and the like: a pattern match, but no number
            return text
    return text


def path_text(segment: str) -> str:
    """A path parameter as slurmrestd hands it to an operation: guessed, then written
    back as text (integers in decimal, decimals rounded to integers)."""
    value = guess_value(segment)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(round_long(value))
    return str(value)


def printable(text: str) -> str:
    """``text`` safe to put in a JSON/YAML body (bytes that were not UTF-8 become U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def update_time(query_string: str) -> int | None:
    """``?update_time=`` as slurmrestd reads it (the last one given): None when absent,
    else Unix seconds (a decimal is rounded, like slurmrestd does).

    Raises:
        SlurmCommandError: 400, the value is not a number.
    """
    if not query_string:
        return None
    from urllib.parse import parse_qsl

    pairs = parse_qsl(query_string, keep_blank_values=True, errors="surrogateescape")
    values = [value for name, value in pairs if name == "update_time"]
    if not values:
        return None
    value = guess_value(values[-1])
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SlurmCommandError([SlurmError(
            INVALID_QUERY.error, INVALID_QUERY.error_number,
            f"update_time must be Unix seconds, not {printable(values[-1])!r}", "update_time",
        )], status=400)
    return value if isinstance(value, int) else round_long(value)
