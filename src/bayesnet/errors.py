"""Exceptions shared across modules."""


class SpecError(ValueError):
    """A spec (or sweep grid) key or value is not allowed; the message names it and lists
    what is allowed."""
