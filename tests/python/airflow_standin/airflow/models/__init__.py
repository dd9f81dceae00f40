"""airflow.models (stand-in): BaseOperator, DAG, Connection."""
from airflow.models.baseoperator import BaseOperator, MappedOperator
from airflow.models.connection import Connection
from airflow.models.dag import DAG

__all__ = ["BaseOperator", "Connection", "DAG", "MappedOperator"]
