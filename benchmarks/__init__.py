"""Benchmarks: speed and memory targets are measured here, never in timed unit tests."""
