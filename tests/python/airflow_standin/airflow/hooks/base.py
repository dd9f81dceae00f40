"""airflow.hooks.base (stand-in): BaseHook, which finds connections for the hooks built on it."""
from airflow.models.connection import Connection
from airflow.utils.log.logging_mixin import LoggingMixin


class BaseHook(LoggingMixin):
    @classmethod
    def get_connection(cls, conn_id):
        """The connection conn_id; AirflowNotFoundException when none is defined."""
        return Connection.get_connection_from_secrets(conn_id)
