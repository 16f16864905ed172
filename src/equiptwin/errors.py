"""Domain exceptions.

Every error names the thing, the rule, the value and a way out. Each subclasses the
matching builtin so callers can catch either.
"""

from __future__ import annotations


class EquiptwinError(Exception):
    """Base class of every error equiptwin raises on purpose."""

    def __str__(self) -> str:
        # KeyError quotes its argument; every subclass prints its message as written.
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(EquiptwinError, ValueError):
    """A pipeline file or setting is missing, unknown or invalid."""


class StoreError(EquiptwinError, RuntimeError):
    """The store cannot be opened, migrated or written."""


class LogParseError(EquiptwinError, ValueError):
    """A line, row or file of an input source breaks a rule of its format.

    Parameters
    ----------
    path : str
        The source file, relative to the fleet directory.
    line : int
        1-based line number, 0 for the whole file.
    field : str
        The offending field.
    rule : str
        What the field must be.
    value : str
        What was found (shortened).
    """

    def __init__(self, path: str, line: int, field: str, rule: str, value: str) -> None:
        self.path, self.line, self.field, self.rule, self.value = path, line, field, rule, value
        shown = value if len(value) <= 60 else value[:57] + "..."
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: `{field}` {rule}, but found {shown!r}. It was quarantined.")


class UnknownSystemError(EquiptwinError, KeyError):
    """A record names a system that is not in the asset registry."""


class ModelCompatibilityError(EquiptwinError, ValueError):
    """A stored model cannot be used with this version of equiptwin or these features."""


class SchedulerLockedError(EquiptwinError, RuntimeError):
    """Another ``equiptwin serve`` holds the scheduler lease of this store."""
