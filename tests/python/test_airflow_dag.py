"""examples/airflow/ddb2s3_dag.py: it compiles, imports under the Airflow stand-in, and its DAG run (mapped
segment tasks, then finalize; DAG.test() runs them in order in this process) copies a table exactly as one
ddb2s3.scan does, against dynalite and s3rver. examples/airflow/ddb2s3_chain_dag.py: the same, and its daily
runs (a base three days old, then changes) start, advance and merge the chain into a snapshot equal to a
fresh scan, against dynalite, s3rver and the export test server."""
import datetime
import importlib.util
import py_compile
from decimal import Decimal

import pytest

from airflow_test_support import CHAIN_DAG_FILE, DAG_FILE, SigningRecorder, manifest_files, run_lines
from airflow_test_support import set_connection

# The Airflow stand-in, which airflow_test_support put on sys.path.
from airflow.models import MappedOperator

import ddb2s3
from ddb2s3.airflow import DynamoDBExportChainOperator, DynamoDBToS3FinalizeOperator, DynamoDBToS3Operator

ITEMS = [{"pk": f"item-{i:04d}", "n": Decimal(f"{i}.{'9' * 30}"), "tags": {f"t{i % 7}", "all"},
          "payload": "x" * (i % 300)} for i in range(400)]


def load_dag(path=DAG_FILE):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", [DAG_FILE, CHAIN_DAG_FILE], ids=lambda p: p.name)
def test_dag_file_compiles(tmp_path, path):
    py_compile.compile(str(path), cfile=str(tmp_path / "dag.pyc"), doraise=True)


def test_dag_shape():
    module = load_dag()
    dag = module.dag
    assert dag.dag_id == "ddb2s3_copy_table"
    assert dag.task_ids == ["copy_segment", "finalize"]
    copy_task, finalize = dag.get_task("copy_segment"), dag.get_task("finalize")
    assert isinstance(copy_task, MappedOperator) and copy_task.operator_class is DynamoDBToS3Operator
    assert copy_task.mapped_kwargs == {"segment": list(range(module.TOTAL_SEGMENTS))}
    assert isinstance(finalize, DynamoDBToS3FinalizeOperator)
    assert finalize.upstream_task_ids == {"copy_segment"}


@pytest.fixture
def connections(servers, monkeypatch):
    """The DAG's two connections, with different keys; the environment's keys are ones s3rver refuses."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
    with SigningRecorder(servers["dynamodb"]) as dynamodb_side:
        set_connection(monkeypatch, "aws_dynamodb", login="DYNAMODBKEY", password="dynamodb-secret",
                       region_name="us-east-1", endpoint_url=dynamodb_side.url)
        set_connection(monkeypatch, "aws_s3", login="S3RVER", password="S3RVER", region_name="us-east-1",
                       endpoint_url=servers["s3"])
        yield dynamodb_side


def test_dag_run_copies_the_table_as_one_process_does(servers, s3, make_table, make_bucket, connections):
    table, bucket = make_table(items=ITEMS), make_bucket()
    reference = ddb2s3.scan(table, f"s3://{bucket}/reference", source_endpoint_url=servers["dynamodb"],
                            dest_endpoint_url=servers["s3"], source_aws_access_key_id="S3RVER",
                            source_aws_secret_access_key="S3RVER", dest_aws_access_key_id="S3RVER",
                            dest_aws_secret_access_key="S3RVER")

    module = load_dag()
    logical_date = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
    run = module.dag.test(logical_date=logical_date,
                          run_conf={"table": table, "bucket": bucket, "prefix": "exports/orders"})

    failed = {(ti.task_id, ti.map_index): repr(ti.exception) for ti in run.get_task_instances()
              if ti.state != "success"}
    assert run.state == "success", failed
    segment_tis = [ti for ti in run.get_task_instances() if ti.task_id == "copy_segment"]
    assert [ti.map_index for ti in segment_tis] == list(range(module.TOTAL_SEGMENTS))

    run_id = "manual__2024-05-01T00-00-00-00-00"  # the DAG's RUN_ID template, rendered
    finalize_ti = run.get_task_instance("finalize")
    summaries = finalize_ti.xcom_pull(task_ids="copy_segment")
    assert [s["segment"] for s in summaries] == list(range(module.TOTAL_SEGMENTS))
    assert {s["runId"] for s in summaries} == {run_id}
    final = finalize_ti.xcom_pull(task_ids="finalize")
    assert final["runId"] == run_id and final["itemCount"] == len(ITEMS)
    assert final["totalSegments"] == module.TOTAL_SEGMENTS
    assert sum(s["itemCount"] for s in summaries) == len(ITEMS)

    assert connections.seen("key_id") == {"DYNAMODBKEY"}  # aws_dynamodb's keys reached DynamoDB
    assert s3.head_object(Bucket=bucket, Key=f"exports/orders/{run_id}/manifest-summary.json")
    files = manifest_files(s3, bucket, "exports/orders", run_id)
    assert {f["dataFileS3Key"].split("/data/")[1][:4] for f in files} == {
        f"{i:04d}" for i in range(module.TOTAL_SEGMENTS)}  # every segment wrote its own files
    assert run_lines(s3, bucket, "exports/orders", run_id) == run_lines(s3, bucket, "reference",
                                                                        reference["runId"])


def test_chain_dag_shape():
    dag = load_dag(CHAIN_DAG_FILE).dag
    assert dag.dag_id == "ddb2s3_chain"
    assert dag.schedule == "@daily" and dag.max_active_runs == 1
    assert dag.task_ids == ["export_chain"]
    task = dag.get_task("export_chain")
    assert isinstance(task, DynamoDBExportChainOperator) and task.merge is True
    assert (task.source_aws_conn_id, task.dest_aws_conn_id) == ("aws_dynamodb", "aws_s3")


def test_chain_dag_runs_start_advance_and_merge_the_chain(servers, chain_table, monkeypatch):
    # The DAG's two connections, with different keys; the environment's keys are ones s3rver refuses.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
    dag = load_dag(CHAIN_DAG_FILE).dag
    conf = {"table": chain_table.table, "bucket": chain_table.bucket, "prefix": f"chains/{chain_table.table}"}
    dest = f"s3://{chain_table.bucket}/chains/{chain_table.table}"

    def daily_run(day, **extra_conf):
        run = dag.test(logical_date=datetime.datetime(2024, 5, day, tzinfo=datetime.timezone.utc),
                       run_conf={**conf, **extra_conf})
        ti = run.get_task_instance("export_chain")
        assert run.state == "success", repr(ti.exception)
        return ti.xcom_pull(task_ids="export_chain")

    with SigningRecorder(chain_table.server["url"]) as dynamodb_side:
        set_connection(monkeypatch, "aws_dynamodb", login="DYNAMODBKEY", password="dynamodb-secret",
                       region_name="us-east-1", endpoint_url=dynamodb_side.url)
        set_connection(monkeypatch, "aws_s3", login="S3RVER", password="S3RVER", region_name="us-east-1",
                       endpoint_url=servers["s3"])
        first = daily_run(1, export_time=str(chain_table.t0))  # the first run, based three days ago
        assert first["action"] == "started-base" and first["state"] == f"{dest}/ddb2s3-chain.json"
        assert first["exports"][0]["ExportTime"] == chain_table.t0

        chain_table.change()
        second = daily_run(2)
        assert second["action"] == "advanced" and second["incrementals"] == 3
        assert second["snapshot"].startswith(f"{dest}/snapshots/")
        assert chain_table.snapshot(second["snapshot"]) == chain_table.scanned()

        third = daily_run(3)
        assert third["action"] == "up-to-date" and third["snapshot"] == second["snapshot"]
    assert dynamodb_side.seen("key_id") == {"DYNAMODBKEY"}  # aws_dynamodb's keys reached DynamoDB
