"""The engine: the initial state and the SimPy batch simulation of staffing flows and pay indices.
Imports from params only.
"""
