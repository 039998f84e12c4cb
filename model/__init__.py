"""cogsim: a calibrated simulation model of the workforce and management budget of the French
social-security funds (caisses nationales of the régime général, MSA, ex-RSI)."""

__version__ = "0.1.0"
