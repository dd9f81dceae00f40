"""airflow.providers.amazon.aws (stand-in)."""
