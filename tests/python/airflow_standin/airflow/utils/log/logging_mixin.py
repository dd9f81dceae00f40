"""airflow.utils.log.logging_mixin (stand-in): .log, a logger named after the class."""
import logging


class LoggingMixin:
    @property
    def log(self):
        cls = type(self)
        return logging.getLogger(f"{cls.__module__}.{cls.__name__}")
