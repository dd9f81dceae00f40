"""airflow.utils (stand-in)."""
