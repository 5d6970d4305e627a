"""Coder-shaped telemetry and an independent plain-Python reference of the insights rules."""
