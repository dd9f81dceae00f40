"""airflow.providers.amazon.aws.utils (stand-in)."""
