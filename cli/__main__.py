"""`python -m cli …`, as the tests and the demo run the command."""

from cli import app

app()
