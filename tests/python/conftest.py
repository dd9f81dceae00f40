"""Fixtures of the Python tests: dynalite and s3rver (tests/support/servers.js), the export test server
(BUILD/tests/export_test_server), boto3 clients on them, and the build directory (env DDB2S3_BUILD_DIR).

Every test runs with fixed credentials the local servers accept, no instance metadata and no ~/.aws."""
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import botocore.config
import pytest

SOURCE_DIR = Path(__file__).resolve().parents[2]
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
REGION = "us-east-1"


def unique_name(prefix="t"):
    """A name valid as a table and as a bucket name, used by no other test or earlier run."""
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:10]}"


def _start(argv, what):
    """Starts a server that prints one JSON line and stops when its stdin closes."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.stdin.close()
        proc.wait()
        raise RuntimeError(f"{what} did not start (exit code {proc.returncode}): {argv}")
    return proc, json.loads(line)


def _stop(proc):
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def build_dir():
    return Path(os.environ.get("DDB2S3_BUILD_DIR", SOURCE_DIR / "build")).resolve()


@pytest.fixture(scope="session")
def cli(build_dir):
    path = build_dir / "ddb2s3"
    assert path.is_file(), f"{path} is not built"
    return path


@pytest.fixture(scope="session")
def servers():
    """{"dynamodb": URL, "s3": URL, "s3_dir": DIR}; started once, always stopped."""
    proc, info = _start(["node", str(SOURCE_DIR / "tests" / "support" / "servers.js")], "servers.js")
    try:
        yield info
    finally:
        _stop(proc)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path_factory):
    """Credentials the local servers accept; no instance metadata; empty AWS config files."""
    home = tmp_path_factory.mktemp("aws")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    return os.environ


def _client(service, url):
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    ).client(service, endpoint_url=url,
             config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


@pytest.fixture(scope="session")
def ddb(servers):
    return _client("dynamodb", servers["dynamodb"])


@pytest.fixture(scope="session")
def s3(servers):
    return _client("s3", servers["s3"])


@pytest.fixture
def make_table(ddb, servers):
    """make_table(name=None, items=(), key="pk", key_type="S", sort_key=None, sort_key_type="S") -> name.

    items are plain Python values (str, int, Decimal, bytes, set, list, dict, None, bool), as boto3's
    Table.put_item takes them."""
    resource = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    ).resource("dynamodb", endpoint_url=servers["dynamodb"])

    def make(name=None, items=(), key="pk", key_type="S", sort_key=None, sort_key_type="S"):
        name = name or unique_name("tbl")
        schema = [{"AttributeName": key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": key, "AttributeType": key_type}]
        if sort_key:
            schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": sort_key, "AttributeType": sort_key_type})
        ddb.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=attrs,
                         BillingMode="PAY_PER_REQUEST")
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
        table = resource.Table(name)
        with table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)
        return name

    return make


@pytest.fixture
def make_bucket(s3):
    """make_bucket(name=None) -> name of a new, empty bucket."""

    def make(name=None):
        name = name or unique_name("bkt")
        s3.create_bucket(Bucket=name)
        return name

    return make


class ExportServerProcess(dict):
    """A running export test server: ["url"], ["proc"], ["started"] (time.time() just before it started: its
    point-in-time window ends 5 minutes before that or later), and its stdin commands."""

    def command(self, line):
        """Sends one command line; returns its answer line (raises unless it is "ok")."""
        proc = self["proc"]
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline().rstrip("\n")
        if answer != "ok":
            raise RuntimeError(f"export_test_server: {line!r}: {answer or 'no answer'}")
        return answer

    def snapshot(self, table, at):
        """Scans table now (on the backing dynalite) and keeps it as the table's contents at `at` (epoch
        seconds): what the exports as of, or from/to, a time at or after `at` see."""
        return self.command(f"snapshot {table} {at!r}")

    def fail(self, on=True):
        """Exports started from now on end FAILED (on) or COMPLETED."""
        return self.command(f"fail {'on' if on else 'off'}")


@pytest.fixture
def start_export_server(build_dir):
    """start_export_server(tables=("orders",), polls_in_progress=2, fail=False, backing=None)
    -> ExportServerProcess ({"url", "proc", "started"}, .snapshot(table, at), .fail(on)).

    The export test server (tests/support/export_server.h) in a process of its own; stopped after the
    test. backing: the `servers` fixture's dict, to write completed exports into its s3rver, computed from
    its dynalite's table of the same name (keys ACCESS_KEY/SECRET_KEY)."""
    started = []

    def start(tables=("orders",), polls_in_progress=2, fail=False, backing=None):
        argv = [str(build_dir / "tests" / "export_test_server"), "--polls-in-progress", str(polls_in_progress)]
        for t in tables:
            argv += ["--table", t]
        if fail:
            argv.append("--fail")
        if backing is not None:
            argv += ["--dynamodb-endpoint", backing["dynamodb"], "--s3-endpoint", backing["s3"],
                     "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY]
        before = time.time()
        proc, info = _start(argv, "export_test_server")
        started.append(proc)
        return ExportServerProcess(url=info["url"], proc=proc, started=before)

    yield start
    for proc in started:
        _stop(proc)


@pytest.fixture
def export_server(request, start_export_server):
    """A running export test server with table "orders" (exports COMPLETED after 2 IN_PROGRESS polls).

    Other settings: @pytest.mark.export_server(tables=[...], polls_in_progress=N, fail=True); backing: see
    start_export_server."""
    marker = request.node.get_closest_marker("export_server")
    return start_export_server(**(marker.kwargs if marker else {}))


@pytest.fixture
def chain_table(servers, ddb, s3, make_table, make_bucket, start_export_server):
    """A daily chain's world (chain_test_support.ChainTable): a table with items, a bucket, and an export
    test server writing the table's exports into s3rver, the table's snapshot at the base's time recorded."""
    from chain_test_support import ChainTable

    return ChainTable(servers, ddb, s3, make_table, make_bucket, start_export_server)


def pytest_configure(config):
    config.addinivalue_line("markers", "export_server(tables, polls_in_progress, fail): export server settings")
