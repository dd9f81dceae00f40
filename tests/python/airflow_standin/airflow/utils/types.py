"""airflow.utils.types (stand-in): NOTSET, the default of arguments whose None means something."""


class ArgNotSet:
    """Type of NOTSET: an argument that was not given (None is a value for some arguments)."""

    def __repr__(self):
        return "NOTSET"


NOTSET = ArgNotSet()
