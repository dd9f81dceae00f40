"""A daily copy of a DynamoDB table to S3 that bills only what changed: ddb2s3's incremental chain.

Each daily run is `ddb2s3 export TABLE s3://BUCKET/PREFIX --chain --merge` (ddb2s3.export_chain): the first
run makes a full point-in-time export, the chain's base; every later run exports the changes since the chain's
end (consecutive windows of at most 24 hours, so a missed day is caught up) and merges them into a new
snapshot that Athena, Glue and ImportTable read as a full export:

    s3://BUCKET/PREFIX/ddb2s3-chain.json                 the chain's state (which snapshot is current)
    s3://BUCKET/PREFIX/snapshots/<YYYYMMDDTHHMMSSZ>/     data/*.json.gz, manifest-files.json, manifest-summary.json

The task's XCom is the run's outcome: action (started-base, advanced, up-to-date), the exports made, through,
snapshot, merge counts. An export that fails fails the task and records nothing: the next run (or a retry)
covers the same window again. max_active_runs=1: one run at a time (the chain's lock would refuse a second).

Needs ddb2s3 installed on the workers (its Python package, `import ddb2s3`), point-in-time recovery on the
table, and two Airflow connections of type aws: `aws_dynamodb` for the table (DynamoDB writes the exports to
the bucket itself: dynamodb:ExportTableToPointInTime, DescribeExport, DescribeTable and
DescribeContinuousBackups, and the export's s3:PutObject, s3:PutObjectAcl and s3:AbortMultipartUpload) and `aws_s3` for the chain's state,
lock and snapshots (s3:GetObject, PutObject, DeleteObject, ListBucket). Trigger with a config for another
table: {"table": "...", "bucket": "...", "prefix": "..."}; on a chain's first run, "export_time" (ISO 8601 or
epoch seconds) bases it at that point in time instead of now.
"""
import datetime

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from ddb2s3.airflow import DynamoDBExportChainOperator

with DAG(
    dag_id="ddb2s3_chain",
    description="Daily incremental exports of a DynamoDB table, merged into a current snapshot",
    schedule="@daily",
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,  # one run catches up any gap by itself
    max_active_runs=1,
    params={"table": "orders", "bucket": "my-bucket", "prefix": "chains/orders", "export_time": ""},
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=10)},
    tags=["ddb2s3"],
) as dag:
    export_chain = DynamoDBExportChainOperator(
        task_id="export_chain",
        table_name="{{ params.table }}",
        s3_bucket="{{ params.bucket }}",
        s3_prefix="{{ params.prefix }}",
        source_aws_conn_id="aws_dynamodb",
        dest_aws_conn_id="aws_s3",
        merge=True,
        export_time="{{ params.export_time }}",  # first run only; empty: now
        # Each export is polled every 30 s (check_interval's default); a large table's full export (the first
        # run) can take hours: up to 4 hours here (ddb2s3's default, 60 polls, gives up after 30 minutes).
        max_attempts=480,
    )
