"""`kosql serve`: an OpenAI-compatible endpoint, the ask API and the web page (FastAPI + uvicorn)."""
