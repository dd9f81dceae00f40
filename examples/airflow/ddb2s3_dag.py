"""Copy a DynamoDB table to S3 with ddb2s3 from Airflow: one Scan shared by mapped tasks, then its manifests.

Each mapped task copies one segment of the table (dynamic task mapping over `segment`), all under one run id;
once they have all succeeded, the finalize task writes the run's manifests (`manifest-files.json`, then
`manifest-summary.json`, whose presence means the copy is complete):

    s3://BUCKET/PREFIX/RUN_ID/data/SEGMENT-NNNNN.json.gz
    s3://BUCKET/PREFIX/RUN_ID/manifest-summary.json

Needs ddb2s3 installed on the workers (its Python package, `import ddb2s3`) and two Airflow connections of
type aws: `aws_dynamodb` for the table and `aws_s3` for the bucket (the same one twice is fine; a
connection's extra may set region_name, and endpoint_url or service_config for other endpoints). Trigger with
a config to copy another table: {"table": "...", "bucket": "...", "prefix": "..."}.
"""
import datetime

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from ddb2s3.airflow import DynamoDBToS3FinalizeOperator, DynamoDBToS3Operator

TOTAL_SEGMENTS = 8

# One run id for all tasks of a DAG run: Airflow's run id, with the characters a ddb2s3 run id cannot hold
# (':' and '+' of its timestamp) replaced, e.g. scheduled__2024-05-01T00-00-00-00-00.
RUN_ID = "{{ run_id | replace(':', '-') | replace('+', '-') }}"

with DAG(
    dag_id="ddb2s3_copy_table",
    description="Copy a DynamoDB table to S3, one mapped task per scan segment, then finalize",
    schedule="@daily",
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={"table": "orders", "bucket": "my-bucket", "prefix": "exports/orders"},
    # A retried segment task resumes from its checkpoints (resume=True below) instead of starting over.
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=1)},
    tags=["ddb2s3"],
) as dag:
    copy_segments = DynamoDBToS3Operator.partial(
        task_id="copy_segment",
        dynamodb_table_name="{{ params.table }}",
        s3_bucket_name="{{ params.bucket }}",
        s3_key_prefix="{{ params.prefix }}",
        source_aws_conn_id="aws_dynamodb",
        dest_aws_conn_id="aws_s3",
        total_segments=TOTAL_SEGMENTS,
        run_id=RUN_ID,
        resume=True,
        # On a live table, cap the read rate of all segments together, e.g. max_rcu=400 (each task takes
        # 400 / TOTAL_SEGMENTS) or read_capacity_percent=25.
    ).expand(segment=list(range(TOTAL_SEGMENTS)))

    finalize = DynamoDBToS3FinalizeOperator(
        task_id="finalize",
        s3_bucket_name="{{ params.bucket }}",
        s3_key_prefix="{{ params.prefix }}",
        run_id=RUN_ID,
        dest_aws_conn_id="aws_s3",
    )

    copy_segments >> finalize
