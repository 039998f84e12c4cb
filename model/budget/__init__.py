"""Budget: wage bill and its bridge, ADF by component, productivity and workload, gaps to the COG
targets, computed from the engine's trajectories. Imports from params and engine.
"""
