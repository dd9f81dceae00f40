"""A stand-in of the few parts of Apache Airflow that ddb2s3.airflow and examples/airflow use: for tests only.

Airflow cannot be installed on this project's machines (it is neither a Debian nor an npm package), so the
operator and the example DAG are tested against these modules instead. They are written from Airflow's
documented interfaces (the operator, hook, connection and DAG guides and API reference of Airflow 2.x/3.x and
of the Amazon provider), not from its code, and implement only what ddb2s3 touches:

- airflow.models.BaseOperator (also airflow.sdk.BaseOperator): task_id, template_fields rendered by Jinja
  (render_template_fields(context)), self.log, partial(...).expand(...) (dynamic task mapping), >> and <<;
- airflow.models.dag.DAG (also airflow.DAG, airflow.sdk.DAG): a context manager collecting tasks, params,
  and DAG.test(run_conf=...), which runs the tasks in dependency order in this process, mapped ones once per
  map index, with a template context, and keeps each task's return value as its XCom;
- airflow.models.connection.Connection and airflow.hooks.base.BaseHook.get_connection: connections from
  AIRFLOW_CONN_<CONN_ID> environment variables (JSON or URI form), as Airflow reads them;
- airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook and
  airflow.providers.amazon.aws.utils.connection_wrapper.AwsConnectionWrapper: credentials from
  login/password or extra (aws_access_key_id, aws_secret_access_key, aws_session_token), region_name, endpoint_url, service_config, profile_name, role_arn; get_credentials() as boto3 gives them;
- airflow.utils.types.NOTSET / ArgNotSet, airflow.exceptions.AirflowException / AirflowNotFoundException.

What Airflow does besides (scheduling, the metadata database, retries, XCom backends, assume-role sessions,
the task SDK's supervisor) is not here.
"""

__version__ = "2.10.5+standin"


def __getattr__(name):
    # As Airflow 2 does: `from airflow import DAG` without importing the models at package import.
    if name == "DAG":
        from airflow.models.dag import DAG

        return DAG
    raise AttributeError(f"module 'airflow' has no attribute {name!r}")
