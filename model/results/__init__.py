"""Results: the Dataset and its aggregates, the one output writer, a run end to end.
"""
