"""Counts in words, for the console lines and the report's sentences."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """'1 run', '2 runs': the count and its noun, in the plural unless the count is one."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
