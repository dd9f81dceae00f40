"""airflow.exceptions (stand-in): the two exceptions ddb2s3.airflow and the AWS hook raise."""


class AirflowException(Exception):
    """Base class of Airflow's errors; a task that raises it fails."""


class AirflowNotFoundException(AirflowException):
    """A requested object (here: a connection) does not exist."""


class AirflowTaskTerminated(AirflowException):
    """Raised in a running task by the SIGTERM handler Airflow installs when the task is killed."""
