"""matching/storage."""
