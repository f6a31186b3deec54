"""Evaluation: execution accuracy, test-suite EX, exact match, categories, reports.

Import the pieces from their modules (``kosql.evaluate.api``, ``.report``, ...); nothing heavy is
imported here.
"""
