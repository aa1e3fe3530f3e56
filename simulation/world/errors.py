"""The one error type users see for bad input."""


class InputError(ValueError):
    """Bad user input: a parameter, a preset, a city graph or a spec.

    Its message is one line naming what is wrong and what is allowed. Command-line
    entry points print it and exit with status 2, before writing anything.
    """


class ParameterError(InputError):
    """An unknown parameter key, a value of the wrong type, or a value out of range."""


class InvariantError(RuntimeError):
    """A run broke an accounting identity or produced NaN; names the step and quantity."""
