"""Calibration: orthogonal kernels and unit-variance, centred layer outputs (LSUV)."""
