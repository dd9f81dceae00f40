"""ddb2s3.airflow.DynamoDBToS3Operator and DynamoDBExportChainOperator against dynalite, s3rver and the export
test server (real copies and exports); only Airflow is a stand-in (airflow_standin/, written from Airflow's
documented interfaces)."""
import datetime
import inspect
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from decimal import Decimal

import boto3
import boto3.dynamodb.types
import pytest
from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary

from airflow_test_support import STANDIN, SigningRecorder, data_bytes, manifest_files, render_and_execute
from airflow_test_support import run_lines, set_connection
from items_support import canonical

# The Airflow stand-in, which airflow_test_support put on sys.path.
from airflow.exceptions import AirflowException, AirflowTaskTerminated
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.utils.types import NOTSET

import ddb2s3
import ddb2s3.airflow
from ddb2s3.airflow import DynamoDBExportChainOperator, DynamoDBToS3FinalizeOperator, DynamoDBToS3Operator

UTC = datetime.timezone.utc

ITEMS = [
    {
        "pk": f"k{i:03d}",
        "kind": "even" if i % 2 == 0 else "odd",
        "n": Decimal(f"1234567890123456789012345678901234567{i % 10}"),  # 38 digits
        "tiny": Decimal("-0.000000000000000000000000000000000001"),
        "tags": {"a", f"t{i}"},
        "nums": {Decimal(1), Decimal("2.5"), Decimal(i)},
        "bin": Binary(bytes([i, 0, 255])),
        "nested": {"list": [Decimal(1), "two", None, True], "map": {"ü": 'ñ\n"q"'}},
    }
    for i in range(40)
]

# The upstream operator (apache-airflow-providers-amazon, transfers/dynamodb_to_s3.py with its base class
# transfers/base.py AwsToAwsBaseOperator): constructor parameters, defaults and template fields.
REQUIRED = inspect.Parameter.empty
UPSTREAM_PARAMETERS = {
    "dynamodb_table_name": REQUIRED,
    "s3_bucket_name": REQUIRED,
    "file_size": 1000,
    "dynamodb_scan_kwargs": None,
    "s3_key_prefix": "",
    "process_func": "_convert_item_to_json_bytes",
    "point_in_time_export": False,
    "export_time": None,
    "export_format": "DYNAMODB_JSON",
    "export_table_to_point_in_time_kwargs": None,
    "check_interval": 30,
    "max_attempts": 60,
    "source_aws_conn_id": "aws_default",
    "dest_aws_conn_id": NOTSET,
}
OUR_DEFAULTS = {"file_size": None, "process_func": None}  # the documented differences
UPSTREAM_TEMPLATE_FIELDS = (
    "source_aws_conn_id", "dest_aws_conn_id", "dynamodb_table_name", "s3_bucket_name", "file_size",
    "dynamodb_scan_kwargs", "s3_key_prefix", "export_time", "export_format",
    "export_table_to_point_in_time_kwargs", "check_interval", "max_attempts",
)


def context(**extra):
    """The part of a task instance's template context these tests use."""
    d = datetime.datetime(2024, 5, 1, tzinfo=UTC)
    ctx = {"ds": "2024-05-01", "ds_nodash": "20240501", "ts": d.isoformat(), "logical_date": d,
           "run_id": "manual__2024-05-01T00:00:00+00:00", "params": {}}
    ctx.update(extra)
    return ctx


def explicit_keys(servers):
    """ddb2s3 options reaching the local servers with the keys s3rver accepts, whatever the environment."""
    options = {}
    for side, url in (("source", servers["dynamodb"]), ("dest", servers["s3"])):
        options.update({f"{side}_endpoint_url": url, f"{side}_region": "us-east-1",
                        f"{side}_aws_access_key_id": "S3RVER", f"{side}_aws_secret_access_key": "S3RVER"})
    return options


def reference_lines(s3, servers, table, bucket, **options):
    """The lines of a single-process copy by ddb2s3.scan itself, sorted."""
    summary = ddb2s3.scan(table, f"s3://{bucket}/reference", **explicit_keys(servers), **options)
    return run_lines(s3, bucket, "reference", summary["runId"])


@pytest.fixture
def credential_requests(monkeypatch):
    """(aws_conn_id, service) of every AwsBaseHook.get_credentials() call."""
    calls = []
    original = AwsBaseHook.get_credentials

    def recording(self, region_name=None):
        calls.append((self.aws_conn_id, self.client_type or self.resource_type))
        return original(self, region_name=region_name)

    monkeypatch.setattr(AwsBaseHook, "get_credentials", recording)
    return calls


@pytest.fixture
def env_keys_s3rver_refuses(monkeypatch):
    """Environment credentials that neither side should use: s3rver refuses them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")


def test_constructor_and_template_fields_match_upstream():
    params = inspect.signature(DynamoDBToS3Operator.__init__).parameters
    for name, upstream_default in UPSTREAM_PARAMETERS.items():
        assert params[name].kind == inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == OUR_DEFAULTS.get(name, upstream_default), name
    ours = [p for p in params.values() if p.name not in UPSTREAM_PARAMETERS and p.name != "self"]
    assert {p.name for p in ours} >= {"total_segments", "segment", "run_id", "compression", "format",
                                      "max_rcu", "read_capacity_percent", "resume", "parallelism"}
    for p in ours:  # every extra is optional, keyword-only (and **kwargs goes to BaseOperator)
        assert p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD), p.name
        assert p.kind == inspect.Parameter.VAR_KEYWORD or p.default is not REQUIRED, p.name
    assert DynamoDBToS3Operator.template_fields[:len(UPSTREAM_TEMPLATE_FIELDS)] == UPSTREAM_TEMPLATE_FIELDS
    assert DynamoDBToS3Operator.template_fields_renderers == {
        "dynamodb_scan_kwargs": "json", "export_table_to_point_in_time_kwargs": "json"}
    doc = DynamoDBToS3Operator.__doc__
    assert "1000 bytes" in doc and "128 MiB" in doc  # why file_size's default differs

    op = DynamoDBToS3Operator(task_id="t", dynamodb_table_name="a", s3_bucket_name="b")
    assert op.dest_aws_conn_id is NOTSET and op.resolved_dest_aws_conn_id == "aws_default"
    assert op.export_table_to_point_in_time_kwargs == {}
    op = DynamoDBToS3Operator(task_id="t2", dynamodb_table_name="a", s3_bucket_name="b",
                              source_aws_conn_id="x", dest_aws_conn_id=None)
    assert op.resolved_dest_aws_conn_id is None  # None is a value: no connection, the default credentials
    with pytest.raises(AirflowException, match="Invalid arguments"):  # BaseOperator's check of the rest
        DynamoDBToS3Operator(task_id="t3", dynamodb_table_name="a", s3_bucket_name="b", file_sise=5)


def test_each_side_takes_its_own_connection(servers, s3, make_table, make_bucket, monkeypatch, caplog,
                                            credential_requests, env_keys_s3rver_refuses):
    table, bucket = make_table(items=ITEMS), make_bucket()
    expected = reference_lines(s3, servers, table, bucket)
    caplog.set_level(logging.INFO)
    with SigningRecorder(servers["dynamodb"]) as dynamodb_side:
        set_connection(monkeypatch, "ddb_conn", login="SOURCEKEY", password="source-secret",
                       aws_session_token="SOURCE-TOKEN", region_name="eu-west-1",
                       endpoint_url=dynamodb_side.url)
        # s3rver takes only the key id S3RVER: the copy succeeds only if S3 gets this connection's keys
        set_connection(monkeypatch, "s3_conn", login="S3RVER", password="S3RVER", region_name="us-east-1",
                       endpoint_url=servers["s3"])
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  s3_key_prefix="exports/", source_aws_conn_id="ddb_conn",
                                  dest_aws_conn_id="s3_conn")
        summary = render_and_execute(op, context())

    assert dynamodb_side.seen("key_id") == {"SOURCEKEY"}
    assert dynamodb_side.seen("token") == {"SOURCE-TOKEN"}
    assert dynamodb_side.seen("region") == {"eu-west-1"}
    assert dynamodb_side.seen("service") == {"dynamodb"}
    assert "DynamoDB_20120810.Scan" in dynamodb_side.seen("target")
    assert sorted(credential_requests) == [("ddb_conn", "dynamodb"), ("s3_conn", "s3")]
    assert summary["itemCount"] == len(ITEMS) and summary["table"] == table
    assert summary["destination"].startswith(f"s3://{bucket}/exports")
    assert "files" not in summary and summary["fileCount"] >= 1
    json.dumps(summary)  # an XCom
    assert run_lines(s3, bucket, "exports/", summary["runId"]) == expected
    for secret in ("source-secret", "SOURCE-TOKEN", "ENVSECRET"):
        assert secret not in caplog.text and secret not in json.dumps(summary)
    assert f"Copied {len(ITEMS)} items" in caplog.text


def test_dest_connection_omitted_uses_the_source_connection(servers, s3, make_table, make_bucket, monkeypatch,
                                                            credential_requests, env_keys_s3rver_refuses):
    table, bucket = make_table(items=ITEMS), make_bucket()
    with SigningRecorder(servers["dynamodb"]) as dynamodb_side:
        # One connection for both services: per-service endpoints, as the provider's service_config has them.
        set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER", region_name="us-east-1",
                       service_config={"dynamodb": {"endpoint_url": dynamodb_side.url},
                                       "s3": {"endpoint_url": servers["s3"]}})
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket)
        summary = render_and_execute(op, context())
    assert dynamodb_side.seen("key_id") == {"S3RVER"}
    assert sorted(credential_requests) == [("aws_default", "dynamodb"), ("aws_default", "s3")]
    assert summary["itemCount"] == len(ITEMS)
    assert len(run_lines(s3, bucket, "", summary["runId"])) == len(ITEMS)


def test_dest_connection_none_uses_the_default_credentials(servers, s3, make_table, make_bucket, monkeypatch,
                                                           credential_requests):
    table, bucket = make_table(items=ITEMS[:5]), make_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", servers["s3"])  # the environment's keys are S3RVER's (aws_env)
    with SigningRecorder(servers["dynamodb"]) as dynamodb_side:
        set_connection(monkeypatch, "ddb_conn", login="SOURCEKEY", password="source-secret",
                       endpoint_url=dynamodb_side.url)
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  source_aws_conn_id="ddb_conn", dest_aws_conn_id=None)
        summary = render_and_execute(op, context())
    assert dynamodb_side.seen("key_id") == {"SOURCEKEY"}
    assert credential_requests == [("ddb_conn", "dynamodb")]
    assert summary["itemCount"] == 5


def test_connection_without_keys_leaves_the_side_to_the_credential_chain(servers, s3, make_table, make_bucket,
                                                                         monkeypatch, credential_requests):
    table, bucket = make_table(items=ITEMS[:5]), make_bucket()
    with SigningRecorder(servers["dynamodb"]) as dynamodb_side:
        set_connection(monkeypatch, "plain", service_config={"dynamodb": {"endpoint_url": dynamodb_side.url},
                                                             "s3": {"endpoint_url": servers["s3"]}})
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  source_aws_conn_id="plain")
        summary = render_and_execute(op, context())
    assert dynamodb_side.seen("key_id") == {"S3RVER"}  # the environment's (aws_env), through ddb2s3's chain
    assert dynamodb_side.seen("region") == {"us-east-1"}
    assert credential_requests == []
    assert summary["itemCount"] == 5


def test_templated_fields_are_rendered_from_the_context(servers, s3, make_table, make_bucket, monkeypatch):
    table, bucket = make_table(items=ITEMS), make_bucket()
    set_connection(monkeypatch, "conn_from_params", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    op = DynamoDBToS3Operator(
        task_id="copy",
        dynamodb_table_name="{{ params.table }}",
        s3_bucket_name="{{ params.bucket }}",
        s3_key_prefix="exports/{{ ds }}/",
        dynamodb_scan_kwargs={"FilterExpression": "#k = :v", "ExpressionAttributeNames": {"#k": "kind"},
                              "ExpressionAttributeValues": {":v": "{{ params.kind }}"}, "Limit": 4},
        file_size="{{ params.file_size }}",
        run_id="r-{{ ds_nodash }}",
        source_aws_conn_id="{{ params.conn }}",
        total_segments="{{ params.segments }}",
    )
    summary = render_and_execute(op, context(params={"table": table, "bucket": bucket, "kind": "even",
                                                     "file_size": "1", "conn": "conn_from_params",
                                                     "segments": 3}))
    assert op.s3_key_prefix == "exports/2024-05-01/" and op.run_id == "r-20240501"
    assert op.dynamodb_scan_kwargs["ExpressionAttributeValues"] == {":v": "even"}
    assert summary["runId"] == "r-20240501" and summary["totalSegments"] == 3
    files = manifest_files(s3, bucket, "exports/2024-05-01", "r-20240501")
    assert all(f["dataFileS3Key"].startswith("exports/2024-05-01/r-20240501/data/") for f in files)
    assert len(files) > 3  # a file per page: file_size is 1 byte, not 128 MiB
    lines = run_lines(s3, bucket, "exports/2024-05-01", "r-20240501")
    assert sorted(json.loads(line)["pk"] for line in lines) == [i["pk"] for i in ITEMS if i["kind"] == "even"]


def test_scan_kwargs_are_taken_as_boto3_table_scan_takes_them(servers, s3, make_table, make_bucket,
                                                               monkeypatch):
    table, bucket = make_table(items=ITEMS), make_bucket()
    scan_kwargs = {
        "FilterExpression": Attr("n").gt(Decimal("12345678901234567890123456789012345674"))
        & Attr("tags").contains("a") & Attr("bin").ne(Binary(bytes([3, 0, 255]))),
        "ProjectionExpression": "pk, #t",
        "ExpressionAttributeNames": {"#t": "tags"},
        "ExclusiveStartKey": {"pk": "k005"},
        "Limit": 7,
    }
    session = boto3.session.Session(region_name="us-east-1")
    resource = session.resource("dynamodb", endpoint_url=servers["dynamodb"])
    expected, kwargs = [], dict(scan_kwargs)
    while True:
        page = resource.Table(table).scan(**kwargs)
        expected += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert 0 < len(expected) < len(ITEMS)
    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                              dynamodb_scan_kwargs=scan_kwargs)
    summary = render_and_execute(op, context())
    assert op.dynamodb_scan_kwargs == scan_kwargs  # the operator's own arguments are left as they were
    lines = [json.loads(line) for line in run_lines(s3, bucket, "", summary["runId"])]
    assert sorted((d["pk"], sorted(d["tags"])) for d in lines) == sorted(
        (i["pk"], sorted(i["tags"])) for i in expected)
    assert all(set(d) == {"pk", "tags"} for d in lines)


def test_process_func_bytes_are_stored_exactly(servers, s3, make_table, make_bucket, monkeypatch):
    table, bucket = make_table(items=ITEMS), make_bucket()
    received = []

    def process_func(item):
        received.append(item)
        if item["kind"] == "odd":
            return b""  # dropped
        return (canonical(item) + "\n").encode()

    session = boto3.session.Session(region_name="us-east-1")
    client = session.client("dynamodb", endpoint_url=servers["dynamodb"])
    deserializer = boto3.dynamodb.types.TypeDeserializer()
    expected = b""
    for page in client.get_paginator("scan").paginate(TableName=table, PaginationConfig={"PageSize": 10}):
        for raw in page["Items"]:
            item = {k: deserializer.deserialize(v) for k, v in raw.items()}
            expected += b"" if item["kind"] == "odd" else (canonical(item) + "\n").encode()

    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                              s3_key_prefix="pf", process_func=process_func, compression="none",
                              file_size=1000, dynamodb_scan_kwargs={"Limit": 10})
    summary = render_and_execute(op, context())
    files = sorted(manifest_files(s3, bucket, "pf", summary["runId"]), key=lambda f: f["dataFileS3Key"])
    assert len(files) > 1  # 1000 bytes: a file per page or two, as upstream's default would make
    assert b"".join(data_bytes(s3, bucket, f["dataFileS3Key"]) for f in files) == expected
    assert summary["itemCount"] == len(ITEMS) // 2
    assert len(received) == len(ITEMS)
    first = next(i for i in received if i["pk"] == "k007")
    assert first["n"] == Decimal("12345678901234567890123456789012345677") and isinstance(first["n"], Decimal)
    assert first["tags"] == {"a", "t7"} and first["bin"] == Binary(bytes([7, 0, 255]))


def test_shared_scan_segment_from_scan_kwargs(servers, s3, make_table, make_bucket, monkeypatch):
    table, bucket = make_table(items=ITEMS), make_bucket()
    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    summaries = []
    for segment in range(2):  # upstream's way to split a copy among tasks
        op = DynamoDBToS3Operator(task_id=f"copy{segment}", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  s3_key_prefix="shared", run_id="run-1",
                                  dynamodb_scan_kwargs={"Segment": segment, "TotalSegments": 2})
        summaries.append(render_and_execute(op, context()))
    assert [(s["segment"], s["totalSegments"]) for s in summaries] == [(0, 2), (1, 2)]
    final = render_and_execute(DynamoDBToS3FinalizeOperator(
        task_id="finalize", s3_bucket_name=bucket, s3_key_prefix="shared", run_id="run-1"), context())
    assert final["itemCount"] == len(ITEMS) == sum(s["itemCount"] for s in summaries)
    assert run_lines(s3, bucket, "shared", "run-1") == reference_lines(s3, servers, table, bucket)

    with pytest.raises(ValueError, match="segment is given twice"):
        render_and_execute(DynamoDBToS3Operator(
            task_id="twice", dynamodb_table_name=table, s3_bucket_name=bucket, run_id="run-2", segment=0,
            total_segments=2, dynamodb_scan_kwargs={"Segment": 1}), context())


def test_scan_errors_keep_their_code(servers, make_bucket, monkeypatch):
    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name="no-such-table",
                              s3_bucket_name=make_bucket())
    with pytest.raises(ddb2s3.AwsError) as e:
        render_and_execute(op, context())
    assert e.value.code == "ResourceNotFoundException"


def test_killed_task_cancels_the_copy(servers, s3, make_table, make_bucket, monkeypatch):
    """Airflow kills a task with SIGTERM, whose handler raises AirflowTaskTerminated in the task: the copy
    stops cleanly (no manifest-summary.json) and the exception fails the task."""
    table, bucket = make_table(items=ITEMS), make_bucket()
    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})

    handled = threading.Event()

    def airflow_sigterm_handler(signum, frame):
        handled.set()
        raise AirflowTaskTerminated("Task received SIGTERM signal")

    seen = []

    def process_func(item):
        seen.append(item["pk"])
        if len(seen) == 10:
            os.kill(os.getpid(), signal.SIGTERM)
            # Hold the copy here until the handler has run (in the calling thread, where Python runs signal
            # handlers), so that the kill lands mid-copy.
            assert handled.wait(timeout=60)
        return b"line\n"

    previous = signal.signal(signal.SIGTERM, airflow_sigterm_handler)
    try:
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  s3_key_prefix="killed", run_id="killed-1", process_func=process_func,
                                  dynamodb_scan_kwargs={"Limit": 5})
        with pytest.raises(AirflowTaskTerminated):
            render_and_execute(op, context())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(seen) < len(ITEMS)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="killed/").get("Contents", [])]
    assert "killed/killed-1/manifest-summary.json" not in keys


# Point-in-time export, against the export test server (DynamoDB's export API; it writes nothing to S3).

def export_operator(monkeypatch, export_server, **kwargs):
    set_connection(monkeypatch, "ddb_conn", login="SOURCEKEY", password="source-secret",
                   region_name="us-east-1", endpoint_url=export_server["url"])
    kwargs.setdefault("dynamodb_table_name", "orders")
    kwargs.setdefault("s3_bucket_name", "export-bucket")
    return DynamoDBToS3Operator(task_id="export", source_aws_conn_id="ddb_conn", dest_aws_conn_id="unused",
                                check_interval=0, **kwargs)


def test_point_in_time_export_completed(export_server, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    export_time = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
    op = export_operator(monkeypatch, export_server, point_in_time_export=True, export_time=export_time,
                         s3_key_prefix="exports/{{ ds }}", max_attempts="{{ params.polls }}")
    description = render_and_execute(op, context(params={"polls": "5"}))
    assert description["ExportStatus"] == "COMPLETED"
    assert description["S3Bucket"] == "export-bucket" and description["S3Prefix"] == "exports/2024-05-01"
    assert description["ExportFormat"] == "DYNAMODB_JSON"
    assert description["TableArn"].endswith(":table/orders")
    assert abs(description["ExportTime"] - export_time.timestamp()) < 1.0
    json.dumps(description)  # an XCom
    polls = [r.getMessage() for r in caplog.records if "(poll " in r.getMessage()]
    assert sum("IN_PROGRESS" in p for p in polls) >= 2 and "COMPLETED" in polls[-1]
    assert "source-secret" not in caplog.text


def test_export_kwargs_win_over_the_operator_arguments_as_upstream(export_server, monkeypatch):
    window_end = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(hours=2)
    op = export_operator(
        monkeypatch, export_server, export_time=None, point_in_time_export=True, s3_key_prefix="ignored",
        export_table_to_point_in_time_kwargs={
            "S3Prefix": "incremental/",
            "ExportFormat": "ION",
            "ExportType": "INCREMENTAL_EXPORT",
            "IncrementalExportSpecification": {
                # naive: UTC, as boto3 takes it
                "ExportFromTime": (window_end - datetime.timedelta(hours=1)).replace(tzinfo=None),
                "ExportToTime": window_end,
                "ExportViewType": "NEW_IMAGE",
            },
            "S3SseKmsKeyId": None,  # None values are dropped, as upstream's prune_dict does
        })
    description = render_and_execute(op, context())
    assert description["ExportStatus"] == "COMPLETED"
    assert description["S3Prefix"].rstrip("/") == "incremental" and description["ExportFormat"] == "ION"
    assert description["ExportType"] == "INCREMENTAL_EXPORT"
    spec = description["IncrementalExportSpecification"]
    assert spec["ExportFromTime"] == window_end.timestamp() - 3600
    assert spec["ExportToTime"] == window_end.timestamp()


def test_export_time_alone_chooses_the_export(export_server, monkeypatch):
    op = export_operator(monkeypatch, export_server,
                         export_time=datetime.datetime.now(UTC) - datetime.timedelta(minutes=30))
    assert render_and_execute(op, context())["ExportStatus"] == "COMPLETED"


@pytest.mark.export_server(fail=True)
def test_point_in_time_export_failed_fails_the_task(export_server, monkeypatch):
    op = export_operator(monkeypatch, export_server, point_in_time_export=True)
    with pytest.raises(AirflowException, match="FAILED: S3AccessDenied: Access Denied") as e:
        render_and_execute(op, context())
    assert isinstance(e.value.__cause__, ddb2s3.ExportError)


@pytest.mark.export_server(polls_in_progress=10)
def test_export_still_running_after_max_attempts_fails_the_task(export_server, monkeypatch):
    op = export_operator(monkeypatch, export_server, point_in_time_export=True, max_attempts=2)
    with pytest.raises(AirflowException, match="IN_PROGRESS") as e:
        render_and_execute(op, context())
    assert e.value.__cause__.description["ExportStatus"] == "IN_PROGRESS"


def test_export_time_in_the_future_is_refused_as_upstream(monkeypatch):
    op = DynamoDBToS3Operator(task_id="export", dynamodb_table_name="orders", s3_bucket_name="b",
                              export_time=datetime.datetime.now(UTC) + datetime.timedelta(hours=1))
    with pytest.raises(ValueError, match="The export_time parameter cannot be a future time."):
        render_and_execute(op, context())


# The daily chain: DynamoDBExportChainOperator against dynalite, s3rver and the export test server writing real
# exports (chain_test_support: the base three days old, so that the next run has windows to export).

def test_chain_operator_parameters_and_template_fields():
    params = inspect.signature(DynamoDBExportChainOperator.__init__).parameters
    assert all(params[name].default is REQUIRED for name in ("table_name", "s3_bucket", "s3_prefix"))
    assert params["merge"].default is True
    assert params["source_aws_conn_id"].default == "aws_default" and params["dest_aws_conn_id"].default is NOTSET
    assert {"table_name", "s3_bucket", "s3_prefix"} <= set(DynamoDBExportChainOperator.template_fields)
    op = DynamoDBExportChainOperator(task_id="chain", table_name="t", s3_bucket="b", s3_prefix="p",
                                     source_aws_conn_id="x")
    assert op.resolved_dest_aws_conn_id == "x"
    with pytest.raises(AirflowException, match="Invalid arguments"):
        DynamoDBExportChainOperator(task_id="c2", table_name="t", s3_bucket="b", s3_prefix="p", merj=True)


def chain_connections(monkeypatch, chain_table, servers, dynamodb_url):
    """ddb_conn (its own keys, the export server behind dynamodb_url) and s3_conn (the keys s3rver takes)."""
    set_connection(monkeypatch, "ddb_conn", login="SOURCEKEY", password="source-secret", region_name="us-east-1",
                   endpoint_url=dynamodb_url)
    set_connection(monkeypatch, "s3_conn", login="S3RVER", password="S3RVER", region_name="us-east-1",
                   endpoint_url=servers["s3"])


def chain_operator(**kwargs):
    return DynamoDBExportChainOperator(task_id="chain", table_name="{{ params.table }}",
                                       s3_bucket="{{ params.bucket }}", s3_prefix="chains/{{ params.table }}",
                                       source_aws_conn_id="ddb_conn", dest_aws_conn_id="s3_conn",
                                       check_interval=0, **kwargs)


def test_chain_operator_starts_advances_and_merges_with_each_sides_connection(
        servers, chain_table, monkeypatch, caplog, credential_requests, env_keys_s3rver_refuses):
    caplog.set_level(logging.INFO)
    ctx = context(params={"table": chain_table.table, "bucket": chain_table.bucket})
    dest = f"s3://{chain_table.bucket}/chains/{chain_table.table}"
    with SigningRecorder(chain_table.server["url"]) as dynamodb_side:
        chain_connections(monkeypatch, chain_table, servers, dynamodb_side.url)
        first = render_and_execute(chain_operator(export_time=chain_table.t0_datetime), ctx)
        assert first["action"] == "started-base" and first["state"] == f"{dest}/ddb2s3-chain.json"
        chain_table.change()
        op = chain_operator()
        second = render_and_execute(op, ctx)
    assert op.s3_prefix == f"chains/{chain_table.table}"  # rendered
    assert second["action"] == "advanced" and second["incrementals"] == 3
    assert [x["ExportStatus"] for x in second["exports"]] == ["COMPLETED"] * 3
    assert second["snapshot"].startswith(f"{dest}/snapshots/")
    assert chain_table.snapshot(second["snapshot"]) == chain_table.scanned()
    json.dumps(second)  # an XCom
    # Each side its own connection's keys: the export server saw ddb_conn's, s3rver took only s3_conn's.
    assert dynamodb_side.seen("key_id") == {"SOURCEKEY"}
    assert "DynamoDB_20120810.ExportTableToPointInTime" in dynamodb_side.seen("target")
    assert sorted(set(credential_requests)) == [("ddb_conn", "dynamodb"), ("s3_conn", "s3")]
    assert "Chain advanced by 3 incremental export(s)" in caplog.text
    assert f"snapshot of {second['merge']['items']} items at {second['snapshot']}" in caplog.text
    assert "(poll 1 of 60" in caplog.text  # each DescribeExport in the task log
    assert "source-secret" not in caplog.text and "ENVSECRET" not in caplog.text


def test_chain_operator_failed_export_fails_the_task_saying_where_the_chain_stays(servers, chain_table,
                                                                                 monkeypatch):
    chain_connections(monkeypatch, chain_table, servers, chain_table.server["url"])
    ctx = context(params={"table": chain_table.table, "bucket": chain_table.bucket})
    first = render_and_execute(chain_operator(export_time=str(chain_table.t0)), ctx)  # epoch seconds as text
    assert first["action"] == "started-base"
    chain_table.server.fail(True)
    with pytest.raises(AirflowException, match="FAILED: S3AccessDenied: Access Denied") as e:
        render_and_execute(chain_operator(), ctx)
    assert f"the chain stays at {first['through']}" in str(e.value)
    assert isinstance(e.value.__cause__, ddb2s3.ExportError)
    assert e.value.__cause__.chain["incrementals"] == 0


def test_chain_operator_export_time_in_the_future_is_refused():
    op = DynamoDBExportChainOperator(task_id="chain", table_name="t", s3_bucket="b", s3_prefix="p",
                                     export_time=datetime.datetime.now(UTC) + datetime.timedelta(hours=1))
    with pytest.raises(ValueError, match="cannot be a future time"):
        render_and_execute(op, context())


# Progress lines and imports.

def test_progress_line_every_callback(caplog):
    caplog.set_level(logging.INFO)
    clock = iter([100.0, 102.0])
    log = logging.getLogger("progress-test")
    progress = ddb2s3.airflow._ProgressLog(log, clock=lambda: next(clock))
    counters = {"items": 1000, "scanned": 1200, "scan_bytes": 5_000_000, "stored_bytes": 1_500_000,
                "files": 2, "pages": 3, "consumed_rcu": 612.5, "throttles": 1, "segments_done": 1,
                "segments_total": 4}
    progress(counters)
    progress(dict(counters, items=5000))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Progress: 1,000 items (1,200 scanned), 5.0 MB read, 1.5 MB stored in 2 files, 3 pages, 612.5 RCU, "
        "1 throttles, segments 1/4 done",
        "Progress: 5,000 items (1,200 scanned), 5.0 MB read, 1.5 MB stored in 2 files, 3 pages, 612.5 RCU, "
        "1 throttles, segments 1/4 done, 2,000 items/s",
    ]


def test_progress_lines_in_the_task_log(servers, make_table, make_bucket, monkeypatch, caplog):
    table, bucket = make_table(items=ITEMS), make_bucket()
    set_connection(monkeypatch, "aws_default", login="S3RVER", password="S3RVER",
                   service_config={"dynamodb": {"endpoint_url": servers["dynamodb"]},
                                   "s3": {"endpoint_url": servers["s3"]}})
    caplog.set_level(logging.INFO)
    logged = threading.Event()

    class Watch(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith("Progress: "):
                logged.set()

    watch = Watch()
    logging.getLogger().addHandler(watch)
    seen = []

    def process_func(item):
        seen.append(item)
        if len(seen) == 20:  # hold the copy until a progress line is in the log
            assert logged.wait(timeout=60)
        return b"x\n"

    try:
        op = DynamoDBToS3Operator(task_id="copy", dynamodb_table_name=table, s3_bucket_name=bucket,
                                  process_func=process_func, progress_interval=0.01)
        render_and_execute(op, context())
    finally:
        logging.getLogger().removeHandler(watch)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress: ")]
    assert lines and all(re.fullmatch(r"Progress: [\d,]+ items \([\d,]+ scanned\), .* read, .* stored in "
                                      r"[\d,]+ files, [\d,]+ pages, [\d.,]+ RCU, [\d,]+ throttles"
                                      r"(, segments [01]/1 done)?(, [\d,]+ items/s)?", line) for line in lines), lines
    assert any(", segments 0/1 done" in line for line in lines)  # written while the copy ran


def run_python(code):
    env = {"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_import_ddb2s3_does_not_import_airflow():
    done = run_python("import sys, ddb2s3; print('airflow' in sys.modules, 'ddb2s3.airflow' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_operator_module_imports_on_airflow_2_layout():
    """Without airflow.sdk (Airflow 2), BaseOperator comes from airflow.models."""
    done = run_python(
        "import sys; sys.modules['airflow.sdk'] = None\n"
        "import airflow.models, ddb2s3.airflow as a\n"
        "assert issubclass(a.DynamoDBToS3Operator, airflow.models.BaseOperator)\n"
        "print(sys.modules['airflow.sdk'])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
    assert str(STANDIN) in sys.path
