"""The domain's error tree. Every error backplan's domain raises is one of these:

    ProgramError                  base class; never raised itself
    ├── InvalidWeek               an ISO week string that is not YYYY-Www
    ├── UnknownExercise           a slug that is not in the library
    └── InvalidInput              inputs that cannot be planned together
                                  (e.g. a completion for a future session)

The HTTP layer maps each class to one problem type, in one place.
"""

from __future__ import annotations


class ProgramError(Exception):
    """Base class for every domain error."""


class InvalidWeek(ProgramError):
    """The ISO week is malformed or out of range."""


class UnknownExercise(ProgramError):
    """No exercise in the library has this slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no exercise with slug {slug!r}")
        self.slug = slug


class InvalidInput(ProgramError):
    """The inputs are individually valid but cannot be planned together."""
