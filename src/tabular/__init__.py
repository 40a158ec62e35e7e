"""Tabular: the REST API of a survey platform, built around its auth and permission engine."""

from __future__ import annotations

__version__ = "0.1.0"
