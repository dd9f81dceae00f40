"""apache-airflow-providers-amazon (stand-in)."""
