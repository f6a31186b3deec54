"""Test helpers shipped with kosql (a fault-injecting OpenAI-compatible server)."""
