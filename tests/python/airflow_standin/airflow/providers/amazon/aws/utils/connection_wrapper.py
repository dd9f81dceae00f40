"""airflow.providers.amazon.aws.utils.connection_wrapper (stand-in): AwsConnectionWrapper, the AWS view of a
connection, with the attributes and precedence the Amazon provider documents:

- keys: login/password, else extra aws_access_key_id/aws_secret_access_key; session token: extra
  aws_session_token;
- region_name: the hook's, else extra region_name; verify likewise;
- endpoint_url: extra endpoint_url, overridden per service by extra service_config[SERVICE][endpoint_url];
- profile_name, role_arn, assume_role_method, assume_role_kwargs: from extra.

A wrapper without a connection (no aws_conn_id, or none found) is falsy: boto3's default behaviour applies."""
from airflow.utils.types import NOTSET


class AwsConnectionWrapper:
    def __init__(self, conn, region_name=None, botocore_config=None, verify=None):
        self.region_name = region_name
        self.botocore_config = botocore_config
        self.verify = verify
        self.conn_id = NOTSET
        self.conn_type = None
        self.login = None
        self.password = None
        self.schema = None
        self.extra_config = {}
        self.aws_access_key_id = None
        self.aws_secret_access_key = None
        self.aws_session_token = None
        self.profile_name = None
        self.endpoint_url = None
        self.role_arn = None
        self.assume_role_method = None
        self.assume_role_kwargs = {}
        self.service_config = {}
        if not conn:
            return
        extra = conn.extra_dejson
        self.conn_id = conn.conn_id
        self.conn_type = conn.conn_type or "aws"
        self.login = conn.login
        self.password = conn.password
        self.schema = conn.schema or None
        self.extra_config = dict(extra)
        self.service_config = extra.get("service_config", {})
        if conn.login and conn.password:
            self.aws_access_key_id, self.aws_secret_access_key = conn.login, conn.password
        elif extra.get("aws_access_key_id") and extra.get("aws_secret_access_key"):
            self.aws_access_key_id = extra["aws_access_key_id"]
            self.aws_secret_access_key = extra["aws_secret_access_key"]
        self.aws_session_token = extra.get("aws_session_token")
        if not self.region_name:
            self.region_name = extra.get("region_name")
        if self.verify is None and "verify" in extra:
            self.verify = extra["verify"]
        self.profile_name = extra.get("profile_name")
        self.endpoint_url = extra.get("endpoint_url")
        self.role_arn = extra.get("role_arn")
        if self.role_arn:
            self.assume_role_method = extra.get("assume_role_method", "assume_role")
            self.assume_role_kwargs = extra.get("assume_role_kwargs", {})

    def get_service_config(self, service_name):
        return self.service_config.get(service_name, {})

    def get_service_endpoint_url(self, service_name, *, sts_connection_assume=False,
                                 sts_test_connection=False):
        global_endpoint_url = self.endpoint_url
        if service_name == "sts" and (sts_connection_assume or sts_test_connection):
            global_endpoint_url = None
        return self.get_service_config(service_name).get("endpoint_url", global_endpoint_url)

    @property
    def extra_dejson(self):
        return self.extra_config

    @property
    def session_kwargs(self):
        """What boto3.session.Session(...) gets: the keys, token, region and profile that are set."""
        values = {
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": self.aws_secret_access_key,
            "aws_session_token": self.aws_session_token,
            "region_name": self.region_name,
            "profile_name": self.profile_name,
        }
        return {k: v for k, v in values.items() if v is not None}

    def __bool__(self):
        return self.conn_id is not NOTSET

    def __repr__(self):
        return f"AwsConnectionWrapper(conn_id={self.conn_id!r})"  # never a key
