"""`python -m maillage` runs the CLI."""

from maillage.cli import main

main()
