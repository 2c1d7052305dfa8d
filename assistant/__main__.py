"""`python -m assistant`: the CLI (cli.py)."""

from .cli import main

main()
