"""Airflow operators over ddb2s3.

``DynamoDBToS3Operator`` is a drop-in for the Amazon provider's
``airflow.providers.amazon.aws.transfers.dynamodb_to_s3.DynamoDBToS3Operator``: the same constructor,
parameter for parameter, with the same meanings and template fields, plus ddb2s3's options as optional
keyword arguments. ``DynamoDBToS3FinalizeOperator`` writes the manifests of a scan that mapped tasks shared
(``segment``/``total_segments``/``run_id``). ``DynamoDBExportChainOperator`` runs the daily incremental chain
(``ddb2s3 export TABLE s3://BUCKET/PREFIX --chain --merge``): a full export once, then incremental exports
merged into a current snapshot.

This module imports Airflow when it is imported, as an operator module does; ``import ddb2s3`` never does.
"""
from __future__ import annotations

import base64
import copy
import datetime
import json
import time

try:  # Airflow 3
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2
    from airflow.models import BaseOperator
try:
    from airflow.exceptions import AirflowException
except ImportError:  # a worker with Airflow 3's task SDK alone
    from airflow.sdk.exceptions import AirflowException
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

try:
    from airflow.utils.types import NOTSET, ArgNotSet
except ImportError:  # an Airflow 3 without airflow.utils.types
    from airflow.sdk.definitions._internal.types import NOTSET, ArgNotSet

import ddb2s3

__all__ = ["DynamoDBToS3Operator", "DynamoDBToS3FinalizeOperator", "DynamoDBExportChainOperator"]

# Options of ddb2s3's S3 uploads, taken by both operators.
_S3_UPLOAD_OPTIONS = ("sse", "sse_kms_key_id", "storage_class", "acl", "expected_bucket_owner",
                      "s3_extra_args")


class _TwoConnections:
    """The DynamoDB side's connection (source_aws_conn_id) and the S3 side's (dest_aws_conn_id, falling back
    to the source's), as ddb2s3's keyword options of both sides."""

    @property
    def resolved_dest_aws_conn_id(self):
        """The S3 side's connection: dest_aws_conn_id, or source_aws_conn_id when it was not given."""
        if isinstance(self.dest_aws_conn_id, ArgNotSet):
            return self.source_aws_conn_id
        return self.dest_aws_conn_id

    def _aws_options(self):
        options = _prefixed("source_", _aws_side(self.source_aws_conn_id, "dynamodb", self.log))
        options.update(_prefixed("dest_", _aws_side(self.resolved_dest_aws_conn_id, "s3", self.log)))
        return options


class DynamoDBToS3Operator(_TwoConnections, BaseOperator):
    """Copies a DynamoDB table to S3 with ddb2s3: a Scan (default) or DynamoDB's point-in-time export.

    Upstream's parameters (``airflow.providers.amazon.aws.transfers.dynamodb_to_s3``), same meanings:

    :param dynamodb_table_name: DynamoDB table to copy.
    :param s3_bucket_name: S3 bucket to copy to.
    :param file_size: a data file ends at the first Scan page end at or past this many stored bytes (an int,
        or text with a unit: ``"64MiB"``). **Default differs**: ``None`` means ddb2s3's 128 MiB. Upstream's
        default, 1000 bytes, uploads one object per Scan page (every page is larger than 1000 bytes); pass
        ``file_size=1000`` to get that behaviour back.
    :param dynamodb_scan_kwargs: the Scan's arguments as boto3's ``Table.scan`` takes them
        (``FilterExpression`` as text or a ``boto3.dynamodb.conditions`` object,
        ``ExpressionAttributeValues`` and ``ExclusiveStartKey`` as plain Python values,
        ``ProjectionExpression``, ``IndexName``, ``ConsistentRead``, ``Limit``, ...); boto3's own serializer
        turns them into the Scan request, so what boto3 accepts (and refuses, e.g. floats) is the same. ``Segment``/``TotalSegments`` given here are
        taken as ``segment``/``total_segments``.
    :param s3_key_prefix: key prefix in the bucket. A run writes ``PREFIX/RUN_ID/data/...`` and the run's
        manifests (``PREFIX/RUN_ID/manifest-summary.json``, last), not upstream's ``PREFIX<uuid>`` objects;
        a trailing ``/`` is optional.
    :param process_func: ``item -> bytes``, the line(s) written for an item (``b""`` drops it); the item is
        as boto3's TypeDeserializer gives it (Decimal numbers with every digit, sets, Binary). **Default
        differs**: ``None``, ddb2s3's native JSON lines, which keep every digit of numbers and write sets and
        binary (upstream's default, ``json.dumps`` with Decimal as float, rounds numbers past 17 digits and
        fails on sets and binary).
    :param point_in_time_export: ``True``: DynamoDB's point-in-time export instead of a Scan (also chosen
        when ``export_time`` is given, as upstream does).
    :param export_time: the moment to export as of (datetime; a naive one is UTC, as boto3 takes it; also
        epoch seconds or ISO 8601 text); ``None``: now. A datetime in the future is a ValueError.
    :param export_format: ``DYNAMODB_JSON`` (default) or ``ION``.
    :param export_table_to_point_in_time_kwargs: more ExportTableToPointInTime arguments (``ExportType``,
        ``IncrementalExportSpecification``, ``S3BucketOwner``, ``S3SseAlgorithm``, ...); as upstream, a
        ``S3Bucket``, ``S3Prefix``, ``ExportFormat``, ``ExportTime`` or ``TableArn`` given here wins over the
        operator's own value, and ``None`` values are dropped.
    :param check_interval: seconds between DescribeExport polls (default 30).
    :param max_attempts: polls before giving up (default 60); an export still IN_PROGRESS then, or FAILED,
        fails the task with an AirflowException.
    :param source_aws_conn_id: the Airflow connection for DynamoDB (default ``aws_default``); ``None``: no
        connection, the worker's default AWS credentials.
    :param dest_aws_conn_id: the Airflow connection for S3; not given: ``source_aws_conn_id``'s.

    ddb2s3's options (optional; ``None`` leaves ddb2s3's default), as ``ddb2s3.scan`` takes them:

    :param format: ``jsonl`` (default) or ``dynamodb-json`` (the native export's line format).
    :param compression: ``gzip`` (default), ``zstd`` or ``none``; ``compression_level``.
    :param total_segments: segments of a parallel scan; with ``segment``, this task runs only that segment of
        a scan shared by many tasks (then every task needs the same ``run_id``, and a
        ``DynamoDBToS3FinalizeOperator`` writes the run's manifests once all have finished).
    :param segment: this task's segment (0 to total_segments - 1), e.g. mapped with ``.expand(segment=...)``.
    :param parallelism: segments scanned at once in this task.
    :param run_id: the run's folder under the prefix (default: UTC time and a random suffix); letters, digits,
        ``-``, ``_`` and ``.``.
    :param resume: continue run ``run_id`` from its checkpoints (a finished run or segment: nothing to do), so
        that a retried task goes on where the failed try stopped.
    :param checkpoint_interval: seconds between a segment's checkpoints; ``no_checkpoints``: none.
    :param max_rcu: read at most this many read capacity units per second (all segments of the run together);
        ``read_capacity_percent``: at most this share of the table's read capacity.
    :param sse, sse_kms_key_id, storage_class, acl, expected_bucket_owner, s3_extra_args: S3 upload options.
    :param client_token: ClientToken of the export (a retried task within DynamoDB's 8-hour idempotency window
        then reattaches to its export instead of starting another).
    :param progress_interval: seconds between the progress lines in the task log (default 30).

    ``execute`` returns the run's summary (ddb2s3's ``--json`` summary, without its per-file list, which
    ``manifest-files.json`` holds), or the export's ExportDescription: the task's XCom.
    """

    template_fields = (
        "source_aws_conn_id",
        "dest_aws_conn_id",
        "dynamodb_table_name",
        "s3_bucket_name",
        "file_size",
        "dynamodb_scan_kwargs",
        "s3_key_prefix",
        "export_time",
        "export_format",
        "export_table_to_point_in_time_kwargs",
        "check_interval",
        "max_attempts",
        # ours
        "run_id",
        "segment",
        "total_segments",
        "max_rcu",
        "read_capacity_percent",
        "client_token",
    )
    template_fields_renderers = {
        "dynamodb_scan_kwargs": "json",
        "export_table_to_point_in_time_kwargs": "json",
    }

    def __init__(
        self,
        *,
        dynamodb_table_name,
        s3_bucket_name,
        file_size=None,
        dynamodb_scan_kwargs=None,
        s3_key_prefix="",
        process_func=None,
        point_in_time_export=False,
        export_time=None,
        export_format="DYNAMODB_JSON",
        export_table_to_point_in_time_kwargs=None,
        check_interval=30,
        max_attempts=60,
        source_aws_conn_id=AwsBaseHook.default_conn_name,
        dest_aws_conn_id=NOTSET,
        format=None,
        compression=None,
        compression_level=None,
        total_segments=None,
        segment=None,
        parallelism=None,
        run_id=None,
        resume=False,
        checkpoint_interval=None,
        no_checkpoints=False,
        max_rcu=None,
        read_capacity_percent=None,
        sse=None,
        sse_kms_key_id=None,
        storage_class=None,
        acl=None,
        expected_bucket_owner=None,
        s3_extra_args=None,
        client_token=None,
        progress_interval=30.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.source_aws_conn_id = source_aws_conn_id
        self.dest_aws_conn_id = dest_aws_conn_id
        self.dynamodb_table_name = dynamodb_table_name
        self.s3_bucket_name = s3_bucket_name
        self.file_size = file_size
        self.dynamodb_scan_kwargs = dynamodb_scan_kwargs
        self.s3_key_prefix = s3_key_prefix
        self.process_func = process_func
        self.point_in_time_export = point_in_time_export
        self.export_time = export_time
        self.export_format = export_format
        self.export_table_to_point_in_time_kwargs = export_table_to_point_in_time_kwargs or {}
        self.check_interval = check_interval
        self.max_attempts = max_attempts
        self.format = format
        self.compression = compression
        self.compression_level = compression_level
        self.total_segments = total_segments
        self.segment = segment
        self.parallelism = parallelism
        self.run_id = run_id
        self.resume = resume
        self.checkpoint_interval = checkpoint_interval
        self.no_checkpoints = no_checkpoints
        self.max_rcu = max_rcu
        self.read_capacity_percent = read_capacity_percent
        self.sse = sse
        self.sse_kms_key_id = sse_kms_key_id
        self.storage_class = storage_class
        self.acl = acl
        self.expected_bucket_owner = expected_bucket_owner
        self.s3_extra_args = s3_extra_args
        self.client_token = client_token
        self.progress_interval = progress_interval

    def execute(self, context):
        if self.point_in_time_export or self.export_time:
            return self._export_table_to_point_in_time()
        return self._scan_table()

    def _scan_table(self):
        scan_kwargs = _scan_request(self.dynamodb_scan_kwargs)
        # Upstream's way to split a copy among tasks: Segment/TotalSegments in the Scan arguments.
        lifted = {name: scan_kwargs.pop(field)
                  for field, name in (("Segment", "segment"), ("TotalSegments", "total_segments"))
                  if field in scan_kwargs}
        for name in lifted:
            if getattr(self, name) is not None:
                raise ValueError(f"{name} is given twice: in dynamodb_scan_kwargs and as {name}")
        segment = lifted.get("segment", self.segment)
        total_segments = lifted.get("total_segments", self.total_segments)
        options = {
            "file_size": self.file_size,
            "format": self.format,
            "compression": self.compression,
            "compression_level": _number(self.compression_level, "compression_level"),
            "total_segments": _number(total_segments, "total_segments"),
            "segment": segment if segment == "auto" else _number(segment, "segment"),
            "parallelism": _number(self.parallelism, "parallelism"),
            "run_id": self.run_id or None,
            "resume": bool(self.resume) or None,
            "checkpoint_interval": _number(self.checkpoint_interval, "checkpoint_interval"),
            "no_checkpoints": bool(self.no_checkpoints) or None,
            "max_rcu": _number(self.max_rcu, "max_rcu"),
            "read_capacity_percent": _number(self.read_capacity_percent, "read_capacity_percent"),
            "scan_kwargs": _scan_request_json(scan_kwargs) if scan_kwargs else None,
        }
        options.update({name: getattr(self, name) for name in _S3_UPLOAD_OPTIONS})
        options = {k: v for k, v in options.items() if v is not None}
        source_conn, dest_conn = self.source_aws_conn_id, self.resolved_dest_aws_conn_id
        options.update(self._aws_options())
        dest = _s3_url(self.s3_bucket_name, self.s3_key_prefix)
        self.log.info("Copying DynamoDB table %s to %s (connections: DynamoDB %r, S3 %r)",
                      self.dynamodb_table_name, dest, source_conn, dest_conn)
        summary = ddb2s3.scan(self.dynamodb_table_name, dest, process_func=self.process_func,
                              progress=_ProgressLog(self.log),
                              progress_interval=float(self.progress_interval), **options)
        self.log.info("%s", _summary_line(summary))
        return _xcom_summary(summary)

    def _export_table_to_point_in_time(self):
        kwargs = _prune_none(copy.deepcopy(dict(self.export_table_to_point_in_time_kwargs or {})))
        # As upstream: the kwargs are applied over the operator's own arguments.
        table = kwargs.pop("TableArn", self.dynamodb_table_name)
        bucket = kwargs.pop("S3Bucket", self.s3_bucket_name)
        prefix = kwargs.pop("S3Prefix", self.s3_key_prefix)
        export_format = kwargs.pop("ExportFormat", self.export_format)
        export_time = kwargs.pop("ExportTime", self.export_time)
        if isinstance(export_time, datetime.datetime):
            if export_time > datetime.datetime.now(export_time.tzinfo):
                raise ValueError("The export_time parameter cannot be a future time.")
            if export_time.tzinfo is None:  # boto3 sends a naive datetime as UTC
                export_time = export_time.replace(tzinfo=datetime.timezone.utc)
        options = {
            "export_time": export_time,
            "export_format": export_format,
            "export_kwargs": json.dumps(kwargs, default=_json_time) if kwargs else None,
            "client_token": self.client_token or None,
            "check_interval": _number(self.check_interval, "check_interval"),
            "max_attempts": _number(self.max_attempts, "max_attempts"),
            "expected_bucket_owner": None if "S3BucketOwner" in kwargs else self.expected_bucket_owner,
        }
        options = {k: v for k, v in options.items() if v is not None}
        options.update(_prefixed("source_", _aws_side(self.source_aws_conn_id, "dynamodb", self.log)))
        dest = _s3_url(bucket, prefix)
        self.log.info("Exporting DynamoDB table %s to %s (point in time: %s; connection %r)", table, dest,
                      export_time if export_time is not None else "now", self.source_aws_conn_id)
        try:
            description = ddb2s3.export(table, dest, progress=_ExportProgressLog(self.log), **options)
        except ddb2s3.ExportError as e:
            raise AirflowException(_export_failure(e)) from e
        self.log.info("Export %s %s: %s items, %s bytes billed, manifest s3://%s/%s",
                      description.get("ExportArn"), description.get("ExportStatus"),
                      description.get("ItemCount"), description.get("BilledSizeBytes"),
                      description.get("S3Bucket"), description.get("ExportManifest"))
        return description


class DynamoDBToS3FinalizeOperator(BaseOperator):
    """Writes the manifests of a scan shared by many tasks (``DynamoDBToS3Operator`` with ``segment``,
    ``total_segments`` and one ``run_id``), once every segment has finished: ``ddb2s3.finalize``. It fails,
    naming them, when segments are missing.

    :param s3_bucket_name: the bucket, as given to the segments' tasks.
    :param run_id: the run id all segments used.
    :param s3_key_prefix: the key prefix, as given to the segments' tasks.
    :param dest_aws_conn_id: the Airflow connection for S3 (default ``aws_default``).
    :param sse, sse_kms_key_id, storage_class, acl, expected_bucket_owner, s3_extra_args: S3 upload options
        of the manifests.

    ``execute`` returns the run's summary (as ``DynamoDBToS3Operator`` does): the task's XCom.
    """

    template_fields = ("dest_aws_conn_id", "s3_bucket_name", "s3_key_prefix", "run_id")

    def __init__(self, *, s3_bucket_name, run_id, s3_key_prefix="",
                 dest_aws_conn_id=AwsBaseHook.default_conn_name, sse=None, sse_kms_key_id=None,
                 storage_class=None, acl=None, expected_bucket_owner=None, s3_extra_args=None, **kwargs):
        super().__init__(**kwargs)
        self.s3_bucket_name = s3_bucket_name
        self.run_id = run_id
        self.s3_key_prefix = s3_key_prefix
        self.dest_aws_conn_id = dest_aws_conn_id
        self.sse = sse
        self.sse_kms_key_id = sse_kms_key_id
        self.storage_class = storage_class
        self.acl = acl
        self.expected_bucket_owner = expected_bucket_owner
        self.s3_extra_args = s3_extra_args

    def execute(self, context):
        options = {name: getattr(self, name) for name in _S3_UPLOAD_OPTIONS}
        options = {k: v for k, v in options.items() if v is not None}
        options.update(_prefixed("dest_", _aws_side(self.dest_aws_conn_id, "s3", self.log)))
        dest = _s3_url(self.s3_bucket_name, self.s3_key_prefix)
        self.log.info("Finalizing run %s at %s (connection %r)", self.run_id, dest, self.dest_aws_conn_id)
        summary = ddb2s3.finalize(dest, self.run_id, **options)
        self.log.info("%s", _summary_line(summary))
        return _xcom_summary(summary)


class DynamoDBExportChainOperator(_TwoConnections, BaseOperator):
    """One run of the daily incremental chain kept under ``s3://s3_bucket/s3_prefix``: ``ddb2s3.export_chain``,
    as ``ddb2s3 export TABLE s3://BUCKET/PREFIX --chain --merge``. The first run makes a full export (as of
    ``export_time``, default now) or adopts ``base``; every later run exports what changed since the chain's
    end in consecutive incremental windows of at most 24 hours (a missed day is caught up), records each in
    ``PREFIX/ddb2s3-chain.json`` and, with ``merge``, writes the current snapshot
    ``PREFIX/snapshots/<TIME>/`` (what Athena, Glue and ImportTable read as a full export). Needs
    point-in-time recovery on the table. A run that finds another one holding the chain fails (ChainBusy):
    give the DAG ``max_active_runs=1``.

    :param table_name: the DynamoDB table (or its ARN).
    :param s3_bucket: the bucket of the chain.
    :param s3_prefix: the chain's prefix in the bucket (one per table).
    :param merge: write a new snapshot after the exports (default ``True``); ``False``: exports only (``ddb2s3
        merge s3://BUCKET/PREFIX`` merges later).
    :param source_aws_conn_id: the Airflow connection for DynamoDB (default ``aws_default``); ``None``: the
        worker's default AWS credentials.
    :param dest_aws_conn_id: the Airflow connection for S3 (the chain's state, lock and snapshots; DynamoDB
        writes the exports itself); not given: ``source_aws_conn_id``'s.

    Optional (``None`` leaves ddb2s3's default), as ``ddb2s3.export_chain`` takes them:

    :param export_time: first run only: the base's point in time (datetime, a naive one UTC; epoch seconds
        or ISO 8601 text; empty text: now). A datetime in the future is a ValueError.
    :param base: first run only: adopt this full export folder or ``scan --format dynamodb-json`` run
        (``s3://...``) as the base instead of making a full export.
    :param view: first run only: ``NEW_AND_OLD_IMAGES`` (default) or ``NEW_IMAGE`` for the incremental
        exports.
    :param partitions, file_size: the merge's key-hash partitions (default 16) and data file size (default
        256 MiB).
    :param check_interval, max_attempts: DescribeExport polls of each export (default every 30 s, at most
        60); an export still running after them, or FAILED, fails the task with nothing recorded for it
        (the next run covers the same window again).
    :param sse, sse_kms_key_id, expected_bucket_owner: of each export.

    ``execute`` returns the run's outcome (``export --chain --json``): ``action`` (``started-base``,
    ``adopted-base``, ``advanced``, ``up-to-date``), ``exports`` (their ExportDescriptions), ``through``,
    ``incrementals``, ``snapshot``, ``nextWindow`` (up to date), ``merge`` (its counts): the task's XCom.
    """

    template_fields = ("source_aws_conn_id", "dest_aws_conn_id", "table_name", "s3_bucket", "s3_prefix",
                       "export_time", "base")

    def __init__(self, *, table_name, s3_bucket, s3_prefix, merge=True,
                 source_aws_conn_id=AwsBaseHook.default_conn_name, dest_aws_conn_id=NOTSET, export_time=None,
                 base=None, view=None, partitions=None, file_size=None, check_interval=None, max_attempts=None,
                 sse=None, sse_kms_key_id=None, expected_bucket_owner=None, **kwargs):
        super().__init__(**kwargs)
        self.table_name = table_name
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix
        self.merge = merge
        self.source_aws_conn_id = source_aws_conn_id
        self.dest_aws_conn_id = dest_aws_conn_id
        self.export_time = export_time
        self.base = base
        self.view = view
        self.partitions = partitions
        self.file_size = file_size
        self.check_interval = check_interval
        self.max_attempts = max_attempts
        self.sse = sse
        self.sse_kms_key_id = sse_kms_key_id
        self.expected_bucket_owner = expected_bucket_owner

    def execute(self, context):
        export_time = self.export_time
        if isinstance(export_time, datetime.datetime):
            if export_time > datetime.datetime.now(export_time.tzinfo):
                raise ValueError("The export_time parameter cannot be a future time.")
            if export_time.tzinfo is None:  # as boto3 sends a naive datetime: UTC
                export_time = export_time.replace(tzinfo=datetime.timezone.utc)
        elif isinstance(export_time, str) and not export_time.strip():
            export_time = None  # a template that rendered empty: now
        options = {
            "merge": bool(self.merge) or None,
            "export_time": export_time,
            "base": self.base or None,
            "view": self.view,
            "partitions": _number(self.partitions, "partitions"),
            "file_size": self.file_size,
            "check_interval": _number(self.check_interval, "check_interval"),
            "max_attempts": _number(self.max_attempts, "max_attempts"),
            "sse": self.sse,
            "sse_kms_key_id": self.sse_kms_key_id,
            "expected_bucket_owner": self.expected_bucket_owner,
        }
        options = {k: v for k, v in options.items() if v is not None}
        source_conn, dest_conn = self.source_aws_conn_id, self.resolved_dest_aws_conn_id
        options.update(self._aws_options())
        dest = _s3_url(self.s3_bucket, (self.s3_prefix or "").strip("/"))
        self.log.info("Chain of DynamoDB table %s at %s%s (connections: DynamoDB %r, S3 %r)", self.table_name,
                      dest, ", then a merged snapshot" if self.merge else "", source_conn, dest_conn)
        try:
            outcome = ddb2s3.export_chain(self.table_name, dest, progress=_ExportProgressLog(self.log),
                                          **options)
        except ddb2s3.ExportError as e:
            raise AirflowException(_chain_failure(e)) from e
        self.log.info("%s", _chain_line(outcome))
        return outcome


def _aws_side(conn_id, service, log):
    """One side's AWS settings from its Airflow connection, as ddb2s3's side options (unprefixed).

    Region and endpoint come from the connection (its service_config's endpoint for this service first).
    Credentials: when the connection holds keys (login/password or extra) or assumes a role (role_arn), the
    hook's get_credentials() gives them (for a role: temporary ones, valid for the role's session); a
    connection with a profile_name hands ddb2s3 that profile; one with neither, or no connection, leaves the
    side to ddb2s3's credential chain, which is boto3's (environment, profiles, web identity, container,
    instance metadata) and renews temporary credentials during a long copy, where frozen ones would expire."""
    hook = AwsBaseHook(aws_conn_id=conn_id, client_type=service)
    conn = hook.conn_config
    side = {}
    region = hook.region_name
    if region:
        side["region"] = region
    if hasattr(conn, "get_service_endpoint_url"):
        endpoint = conn.get_service_endpoint_url(service)
    else:  # providers before 8.x
        endpoint = getattr(conn, "endpoint_url", None)
    if endpoint:
        side["endpoint_url"] = endpoint
    if conn and (getattr(conn, "role_arn", None) or conn.aws_access_key_id or conn.aws_session_token):
        credentials = hook.get_credentials(region_name=region)
        side["aws_access_key_id"] = credentials.access_key
        side["aws_secret_access_key"] = credentials.secret_key
        if credentials.token:
            side["aws_session_token"] = credentials.token
        how = "an assumed role's temporary credentials" if getattr(conn, "role_arn", None) else "its keys"
    elif conn and getattr(conn, "profile_name", None):
        side["profile"] = conn.profile_name
        how = f"profile {conn.profile_name!r}"
    else:
        how = "the default AWS credentials of the worker"
    if getattr(conn, "verify", None) not in (None, True):
        log.warning("Connection %r: 'verify' is not used by ddb2s3 (it verifies TLS with the system's CA "
                    "certificates, or AWS_CA_BUNDLE)", conn_id)
    log.info("%s: connection %r, %s, region %s%s", "DynamoDB" if service == "dynamodb" else "S3", conn_id,
             how, region or "(default)", f", endpoint {endpoint}" if endpoint else "")
    return side


def _prefixed(prefix, side):
    return {prefix + k: v for k, v in side.items()}


def _s3_url(bucket, prefix):
    return f"s3://{bucket}/{prefix or ''}"


def _number(value, name):
    """A rendered template gives text: numbers of the options back as numbers."""
    if value is None or not isinstance(value, str):
        return value
    text = value.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise ValueError(f"{name} must be a number, not {value!r}")


def _scan_request(scan_kwargs):
    """dynamodb_scan_kwargs as boto3's Table.scan takes them -> the Scan request's fields (typed values), by
    boto3's own transformation (condition objects built, values serialized)."""
    if not scan_kwargs:
        return {}
    import botocore.session
    from boto3.dynamodb.transform import TransformationInjector

    params = copy.deepcopy(dict(scan_kwargs))
    model = botocore.session.get_session().get_service_model("dynamodb").operation_model("Scan")
    injector = TransformationInjector()
    injector.inject_condition_expressions(params, model)
    injector.inject_attribute_value_input(params, model)
    return params


def _scan_request_json(params):
    def binary(value):
        if isinstance(value, (bytes, bytearray)):  # B and BS values, as the DynamoDB JSON protocol sends them
            return base64.b64encode(bytes(value)).decode("ascii")
        raise TypeError(f"dynamodb_scan_kwargs: a {type(value).__name__} is not a Scan argument value")

    return json.dumps(params, default=binary)


def _prune_none(value):
    if isinstance(value, dict):
        return {k: _prune_none(v) for k, v in value.items() if v is not None}
    return value


def _json_time(value):
    """Datetimes in export_table_to_point_in_time_kwargs (as boto3 takes them) as epoch seconds."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        seconds = value.timestamp()
        return int(seconds) if seconds == int(seconds) else seconds
    raise TypeError(f"export_table_to_point_in_time_kwargs: a {type(value).__name__} is not JSON")


def _xcom_summary(summary):
    """The summary for XCom, without the list of data files (manifest-files.json has it; it grows with the
    table, and XComs live in Airflow's metadata database)."""
    return {k: v for k, v in summary.items() if k != "files"}


def _summary_line(s):
    if s.get("alreadyComplete"):
        return f"Run {s.get('runId')} at {s.get('destination')} was complete already: nothing copied"
    destination, key = s.get("destination", ""), s.get("manifestSummaryKey") or s.get("segmentManifestKey")
    where = destination
    if key and destination.startswith("s3://"):
        where = f"s3://{destination[5:].split('/', 1)[0]}/{key}"
    return (f"Copied {s.get('itemCount', 0):,} items ({_bytes(s.get('storedBytes', 0))} stored in "
            f"{s.get('fileCount', 0):,} files) in {s.get('seconds', 0):.1f} s; run {s.get('runId')}: {where}")


def _bytes(n):
    n = float(n or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class _ProgressLog:
    """One line in the task log per progress callback of ddb2s3.scan (every progress_interval seconds)."""

    def __init__(self, log, clock=time.monotonic):
        self.log = log
        self.clock = clock
        self.last = None

    def __call__(self, counters):
        now = self.clock()
        items = counters.get("items", 0)
        rate = ""
        if self.last is not None and now > self.last[0]:
            rate = f", {(items - self.last[1]) / (now - self.last[0]):,.0f} items/s"
        self.last = (now, items)
        self.log.info("%s", format_progress(counters) + rate)


def format_progress(c):
    """A progress line from ddb2s3's counters."""
    line = (f"Progress: {c.get('items', 0):,} items ({c.get('scanned', 0):,} scanned), "
            f"{_bytes(c.get('scan_bytes', 0))} read, {_bytes(c.get('stored_bytes', 0))} stored in "
            f"{c.get('files', 0):,} files, {c.get('pages', 0):,} pages, "
            f"{c.get('consumed_rcu', 0):,.1f} RCU, {c.get('throttles', 0):,} throttles")
    if c.get("segments_total"):
        line += f", segments {c.get('segments_done', 0):,}/{c['segments_total']:,} done"
    return line


class _ExportProgressLog:
    def __init__(self, log):
        self.log = log

    def __call__(self, c):
        self.log.info("Export %s: %s (poll %s of %s, %.0f s)", c.get("export_arn"), c.get("status"),
                      c.get("attempt"), c.get("max_attempts"), float(c.get("elapsed_seconds") or 0))


def _export_failure(e):
    d = getattr(e, "description", None) or {}
    if d.get("ExportStatus") != "FAILED":
        return str(e)  # still IN_PROGRESS after max_attempts: ddb2s3's message names the ARN and what to do
    text = f"DynamoDB export {d.get('ExportArn', '')} FAILED"
    for field in ("FailureCode", "FailureMessage"):
        if d.get(field):
            text += f": {d[field]}"
    return text


def _chain_line(outcome):
    action, through = outcome.get("action"), outcome.get("through")
    exports = outcome.get("exports") or []
    if action == "started-base":
        line = f"Chain started: base export as of {through} ({exports[0].get('ExportArn') if exports else ''})"
    elif action == "adopted-base":
        line = f"Chain started on the adopted base as of {through}"
    elif action == "advanced":
        line = f"Chain advanced by {len(exports)} incremental export(s) to {through}"
    elif action == "up-to-date":
        line = (f"Chain is at {through}, less than 15 minutes ago: nothing to export yet (the next incremental "
                f"export can cover up to {outcome.get('nextWindow')} or later)")
    else:
        line = f"Chain {action} at {through}"
    merge = outcome.get("merge")
    if merge:
        line += f"; snapshot of {merge.get('items', 0):,} items at {outcome.get('snapshot')}"
    return line + f"; state {outcome.get('state')}"


def _chain_failure(e):
    text = _export_failure(e)
    return text + (f"; {e.hint}" if e.hint and e.hint not in text else "")
