"""Support for the template's tests, one concern per module; the scenarios they share are tests/scenarios.py."""
