"""Benchmark floor package."""
