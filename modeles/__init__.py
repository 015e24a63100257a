"""modeles."""
