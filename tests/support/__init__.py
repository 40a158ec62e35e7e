"""Fixtures, factories and worlds the tests share; no test module imports another."""
