"""airflow.providers.amazon.aws.hooks (stand-in)."""
