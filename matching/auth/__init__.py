"""Authentication logic without I/O on the database: API key secrets and adviser tokens."""
