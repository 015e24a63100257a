"""Maillage command line: the composition root wiring the engine, ingestion, models and the API."""
