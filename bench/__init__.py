"""Benchmarks (run with `make bench` or `python -m bench.speed`); speed is measured here, never in tests."""
