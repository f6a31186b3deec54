"""kosql: build, measure and serve your own Korean Text-to-SQL small LLM."""

__version__ = "0.1.0"
