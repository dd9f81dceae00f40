"""airflow.hooks (stand-in)."""
