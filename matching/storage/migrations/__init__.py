"""Versioned SQL migrations, applied in order by `matching.storage.migrator`."""
