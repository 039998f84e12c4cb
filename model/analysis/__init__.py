"""Analysis: calibration and backtest, goal seeking, grids and sweeps, precision, sensitivity indices.
"""
