"""airflow.utils.log (stand-in)."""
