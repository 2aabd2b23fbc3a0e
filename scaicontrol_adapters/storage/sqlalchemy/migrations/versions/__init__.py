"""Migration scripts, one per revision; ids are short and ordered ("0001", "0002", ...)."""

__all__: list[str] = []
