"""Ask a live database in Korean, safely: schema inspection, table selection, the guard, the cost
check and read-only execution (``kosql ask``; ``kosql serve`` uses the same :class:`Asker`)."""

from kosql.ask.service import Asker, AskResult
from kosql.sql.guard import Policy, Verdict, check_sql, load_policy

__all__ = ["AskResult", "Asker", "Policy", "Verdict", "check_sql", "load_policy"]
