"""The one 'did you mean' of the package: the closest known name to a misspelled one, as a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, names: Iterable[str], form: str = "; did you mean {!r}?") -> str:
    """form filled with the known name closest to name, or '' when none is close."""
    close = difflib.get_close_matches(name, list(names), 1)
    return form.format(close[0]) if close else ""
