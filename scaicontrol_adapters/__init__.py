"""Adapters for scaicontrol: storage, payments, accounting, identity and more.

Each subpackage is a pluggy plugin registered through the ``scaicontrol`` entry-point
group; import none of them directly from the server.
"""

__all__: list[str] = []
