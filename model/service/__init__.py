"""Service quality: backlogs and processing delays, telephone queues. Imports from the layers below.
"""
