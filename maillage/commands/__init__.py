"""Sub-command groups of the `maillage` CLI, one module each, wired in `maillage.cli`."""
