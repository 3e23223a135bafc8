"""Counts and lists in words, for the console lines and the report's sentences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def plural(noun: str, count: int) -> str:
    """The noun as a count of that many takes it: 'run' for one, 'runs' otherwise."""
    return noun if count == 1 else f"{noun}s"


def agreed(count: int, one: str, many: str) -> str:
    """The words that agree with a count: one for a count of one ('its section says'), many otherwise."""
    return one if count == 1 else many


def counted(count: int, noun: str) -> str:
    """'1 run', '2 runs': the count and its noun, in the plural unless the count is one."""
    return f"{count} {plural(noun, count)}"


def joined(items: Iterable[Any], word: str = "and") -> str:
    """Items as a list in words: 'a', 'a and b', 'a, b and c' (or another joining word)."""
    words = [str(item) for item in items]
    return f"{', '.join(words[:-1])} {word} {words[-1]}" if len(words) > 1 else "".join(words)


def listed(names: Iterable[Any], noun: str) -> str:
    """Names after their noun, in the plural for more than one: 'run gan', 'runs gan and aux_gan'."""
    names = list(names)
    return f"{plural(noun, len(names))} {joined(names)}"


def alternatives(values: Iterable[float], noun: str, word: str = "or") -> str:
    """The distinct values in order and their noun, singular only for the one value 1: '1 CPU thread',
    '1 or 2 CPU threads', '10 and 12 epochs'."""
    found = sorted(set(values))
    return f"{joined(found, word)} {plural(noun, 2 if found != [1] else 1)}"
