"""The command line: argument parsing, printing and exit codes only (the only layer that prints).
"""
