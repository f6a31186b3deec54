"""End-to-end jobs built from the library: quickstart, sweeps and their comparison reports."""
