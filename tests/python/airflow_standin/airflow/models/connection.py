"""airflow.models.connection (stand-in): Connection, and where Airflow finds one by its id.

Of Airflow's secrets backends only the environment variables are here: AIRFLOW_CONN_<CONN_ID upper case>
holding the connection in JSON form ({"conn_type": "aws", "login": ..., "password": ..., "extra": {...}})
or in URI form (aws://LOGIN:PASSWORD@/?region_name=...&endpoint_url=..., with __extra__ for JSON extra)."""
import json
import os
from urllib.parse import parse_qsl, unquote, urlsplit

from airflow.exceptions import AirflowException, AirflowNotFoundException


class Connection:
    def __init__(self, conn_id=None, conn_type=None, description=None, host=None, login=None, password=None,
                 schema=None, port=None, extra=None, uri=None):
        self.conn_id = conn_id
        self.conn_type = conn_type
        self.description = description
        self.host = host
        self.login = login
        self.password = password
        self.schema = schema
        self.port = port
        self.extra = json.dumps(extra) if isinstance(extra, dict) else extra
        if uri:
            self._parse_uri(uri)

    def _parse_uri(self, uri):
        parts = urlsplit(uri)
        self.conn_type = parts.scheme.replace("-", "_")
        self.host = unquote(parts.hostname) if parts.hostname else None
        self.port = parts.port
        self.schema = unquote(parts.path.lstrip("/")) or None
        self.login = unquote(parts.username) if parts.username is not None else None
        self.password = unquote(parts.password) if parts.password is not None else None
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "__extra__" in query:
            self.extra = query["__extra__"]
        elif query:
            self.extra = json.dumps(query)

    @property
    def extra_dejson(self):
        """The extra field as a dict ({} when there is none)."""
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except json.JSONDecodeError as e:
            raise AirflowException(f"Connection {self.conn_id!r}: extra is not valid JSON: {e}") from None
        if not isinstance(value, dict):
            raise AirflowException(f"Connection {self.conn_id!r}: extra is not a JSON object")
        return value

    def __repr__(self):
        return f"Connection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r})"  # never the password

    @classmethod
    def get_connection_from_secrets(cls, conn_id):
        text = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if text is None:
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
        text = text.strip()
        if text.startswith("{"):
            fields = json.loads(text)
            return cls(conn_id=conn_id, **fields)
        return cls(conn_id=conn_id, uri=text)
