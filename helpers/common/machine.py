"""What this machine is: its processor's name and feature flags (Linux's /proc/cpuinfo, read once), and the
memory a process can still have (psutil)."""

from __future__ import annotations

import platform
from functools import cache
from pathlib import Path

import psutil


@cache
def cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo ({} where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_name() -> str:
    """The processor's model name."""
    return cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The processor's feature flags (empty where the system does not tell)."""
    return frozenset(cpuinfo().get("flags", "").split())


def available_memory() -> int:
    """Bytes of memory this machine can still give a process (0 when unknown)."""
    try:
        return int(psutil.virtual_memory().available)
    except (OSError, RuntimeError):
        return 0
