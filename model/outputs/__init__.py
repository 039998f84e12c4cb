"""Outputs for a reader: labels and number formats, charts, the note, the workbook, the report.
"""
