"""airflow.sdk (stand-in): where Airflow 3 offers the classes a DAG file uses (same classes as airflow.models
here)."""
from airflow.hooks.base import BaseHook
from airflow.models.baseoperator import BaseOperator
from airflow.models.connection import Connection
from airflow.models.dag import DAG

__all__ = ["BaseHook", "BaseOperator", "Connection", "DAG"]
