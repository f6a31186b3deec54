"""Execution-guided voting: several SQL candidates for one question, grouped by what they return.

- :mod:`kosql.vote.core` (pure): :func:`vote` picks the largest group of candidates that return the
  same result (the evaluator's comparison, :func:`kosql.sql.compare.results_match`), ties to the
  greedy answer; the winning group's share of all candidates is the answer's confidence.
- :mod:`kosql.vote.repair`: a candidate in another dialect is transpiled with sqlglot; one that
  names an unknown column or table is retried once with the database's error and the real columns.
- :mod:`kosql.vote.rows`: ``kosql generate --vote k`` (each candidate runs on the row's SQLite file).
- :mod:`kosql.vote.ask`: ``kosql ask`` and ``kosql serve`` (each candidate goes through the guard,
  the cost check and the read-only connector).
"""
