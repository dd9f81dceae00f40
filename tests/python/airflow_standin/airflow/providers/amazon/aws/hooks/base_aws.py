"""airflow.providers.amazon.aws.hooks.base_aws (stand-in): AwsBaseHook, the Amazon provider's base hook.

What is here, as the provider documents it: AwsBaseHook(aws_conn_id="aws_default", verify=None,
region_name=None, client_type=None, resource_type=None, config=None); default_conn_name; conn_config (the
connection wrapped in AwsConnectionWrapper; a missing connection gives an empty one, with a warning, and
boto3's default behaviour); region_name; service_name; get_session(region_name=None) (a boto3 Session from
the connection's keys, token, region and profile); get_credentials(region_name=None) (botocore's
ReadOnlyCredentials: access_key, secret_key, token). Assuming a role (role_arn) needs STS and is not here."""
import functools

import boto3

from airflow.exceptions import AirflowNotFoundException
from airflow.hooks.base import BaseHook
from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper


class AwsGenericHook(BaseHook):
    conn_name_attr = "aws_conn_id"
    default_conn_name = "aws_default"
    conn_type = "aws"
    hook_name = "Amazon Web Services"

    def __init__(self, aws_conn_id=default_conn_name, verify=None, region_name=None, client_type=None,
                 resource_type=None, config=None):
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self.client_type = client_type
        self.resource_type = resource_type
        self._region_name = region_name
        self._config = config
        self._verify = verify

    @functools.cached_property
    def conn_config(self):
        connection = None
        if self.aws_conn_id:
            try:
                connection = self.get_connection(self.aws_conn_id)
            except AirflowNotFoundException:
                self.log.warning("Unable to find AWS Connection ID '%s', switching to empty.",
                                 self.aws_conn_id)
        return AwsConnectionWrapper(conn=connection, region_name=self._region_name,
                                    botocore_config=self._config, verify=self._verify)

    @property
    def service_name(self):
        if bool(self.client_type) == bool(self.resource_type):
            raise ValueError(f"Either client_type={self.client_type!r} or "
                             f"resource_type={self.resource_type!r} must be provided, not both.")
        return self.client_type or self.resource_type

    @property
    def service_config(self):
        return self.conn_config.get_service_config(service_name=self.service_name)

    @property
    def region_name(self):
        return self.conn_config.region_name

    @property
    def verify(self):
        return self.conn_config.verify

    def get_session(self, region_name=None):
        """A boto3 Session as the connection configures it (boto3's defaults without a connection)."""
        conn = self.conn_config
        if not conn:
            return boto3.session.Session(region_name=region_name or conn.region_name)
        if conn.role_arn:
            raise NotImplementedError("assuming a role (role_arn) is not part of the Airflow stand-in")
        kwargs = conn.session_kwargs
        if region_name:
            kwargs["region_name"] = region_name
        return boto3.session.Session(**kwargs)

    def get_credentials(self, region_name=None):
        """botocore's ReadOnlyCredentials (access_key, secret_key, token) of this connection's session."""
        return self.get_session(region_name=region_name).get_credentials().get_frozen_credentials()


class AwsBaseHook(AwsGenericHook):
    """Base class for interacting with AWS (boto3 underneath)."""
