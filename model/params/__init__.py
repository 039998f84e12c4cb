"""Parameters: the calendar, the catalogue (every parameter once, with unit, bounds and source), input
reading and its errors, scenario loading and validation, the fitted-parameter file. The bottom layer:
it imports nothing else of cogsim.
"""
