"""Timing for the benchmarks: the median wall-clock time of repeated in-process calls
(report medians and ratios against a baseline timed in the same script, not single times)."""

from __future__ import annotations

import statistics
import time


def timed(fn, repeat: int):
    """(median seconds over `repeat` calls of fn(), the last call's result)."""
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def median_time(fn, repeat: int) -> float:
    """Median seconds over `repeat` calls of fn()."""
    return timed(fn, repeat)[0]
