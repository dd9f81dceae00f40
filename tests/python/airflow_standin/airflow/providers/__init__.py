"""airflow.providers (stand-in)."""
