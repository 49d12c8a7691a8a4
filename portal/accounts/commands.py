"""Commands of this feature (``portal ...``)."""

import click


def register(group: click.Group) -> None:
    """Attach this feature's commands to the ``portal`` group."""
