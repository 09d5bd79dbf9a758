"""Benchmarks: scripts that print their figures (speed targets live here, not in timed tests)."""
