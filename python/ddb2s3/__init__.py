"""ddb2s3: copy a DynamoDB table to S3 (a re-creation of Airflow's DynamoDBToS3Operator), from Python.

The calls take the ddb2s3 program's options as keyword arguments in snake_case (--file-size is file_size),
with the same meanings and defaults, and return what the program prints with --json, as a dict. The work is
done by the native library with the GIL released; Ctrl-C (KeyboardInterrupt) cancels it cleanly.

    scan(table, dest, *, process_func=None, progress=None, progress_interval=1.0, **options) -> dict
    finalize(dest, run_id, **options) -> dict
    verify(dest, run_id, *, deep=False, **options) -> dict
    export(table, dest, *, progress=None, **options) -> dict
    export_chain(table, dest, *, progress=None, **options) -> dict
    export_status(export_arn, *, wait=False, progress=None, **options) -> dict
    segment_from_environment(total_segments) -> int

Explicit keys per AWS side win over the whole credentials chain of that side, as boto3's
client(aws_access_key_id=...): source_aws_access_key_id, source_aws_secret_access_key,
source_aws_session_token, dest_aws_access_key_id, dest_aws_secret_access_key, dest_aws_session_token
(export and export_status: the source ones, or aws_access_key_id... unprefixed; export_chain: those, and the
dest ones for the chain's S3 side).
"""
import datetime
import decimal
import json
import math
import os

from . import _native
from ._errors import AwsError, Error, ExportError, UsageError, in_keyword_words, usage_error
from ._items import item_from_line as _item_from_line

__all__ = ["scan", "finalize", "verify", "export", "export_chain", "export_status", "segment_from_environment", "Error",
           "UsageError", "AwsError", "ExportError", "__version__"]
__version__ = _native.version

# Keyword arguments of the explicit keys: keyword -> (side, AwsOptions member).
_KEYS = ("access_key_id", "secret_access_key", "session_token")
_SOURCE_KEYS = {f"source_aws_{k}": ("source", k) for k in _KEYS}
_DEST_KEYS = {f"dest_aws_{k}": ("dest", k) for k in _KEYS}
_UNPREFIXED_KEYS = {f"aws_{k}": ("source", k) for k in _KEYS}
# How the library names a side in its errors (AwsOptions::name).
_SIDE_NAMES = {"source": "source", "dest": "dest_aws"}

# Keywords that are not flag-for-flag: keyword -> flag.
_EXPORT_ALIASES = {"from_time": "--from", "to_time": "--to", "export_from_time": "--from",
                   "export_to_time": "--to"}

_flags_cache = {}


def _flags(command):
    if command not in _flags_cache:
        _flags_cache[command] = frozenset(_native.command_flags(command))
    return _flags_cache[command]


def _json_text(value):
    """JSON of dicts, lists and scalars; a Decimal is written with all its digits (json.dumps cannot)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + _json_text(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return str(value)
    return json.dumps(value, allow_nan=False)


def _time_text(value):
    """ISO 8601 UTC for a datetime (a naive one is UTC, as boto3 takes it)."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _flag_text(keyword, value):
    if isinstance(value, datetime.datetime):
        return _time_text(value)
    if isinstance(value, (dict, list, tuple)):
        try:
            return _json_text(value)
        except (TypeError, ValueError) as e:
            raise usage_error(f"{keyword} cannot be written as JSON: {e}", keyword) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise usage_error(f"{keyword} must be a finite number, not {value!r}", keyword)
        return repr(value)
    if isinstance(value, (str, int, decimal.Decimal)):
        return str(value)
    raise usage_error(f"{keyword} cannot be {type(value).__name__} ({value!r})", keyword)


class _Call:
    """One call's keyword arguments as the command's argument list, and the names its errors use."""

    def __init__(self, function, command, positional, options, keys, aliases=None):
        self.function = function
        self.names = {}  # flag or setting -> keyword, for errors
        self.credentials = {}
        self.args = []
        flags = _flags(command)
        for flag in flags:
            self.names[flag] = flag[2:].replace("-", "_")
        for keyword, (side, member) in keys.items():
            self.names.setdefault(f"{_SIDE_NAMES[side]}.{member}", keyword)
        aliases = aliases or {}
        for keyword, flag in aliases.items():
            if flag in flags and not keyword.startswith("export_"):
                self.names[flag] = keyword
        for keyword, value in options.items():
            if keyword in keys:
                side, member = keys[keyword]
                self.names[f"{_SIDE_NAMES[side]}.{member}"] = keyword
                if value is None:
                    continue
                if not isinstance(value, str):
                    raise usage_error(f"{keyword} must be a str, not {type(value).__name__}", keyword)
                self.credentials.setdefault(side, {})[member] = value
                continue
            flag = aliases.get(keyword, "--" + keyword.replace("_", "-"))
            if flag not in flags or keyword != keyword.lower() or "-" in keyword:
                raise usage_error(f"unknown keyword argument '{keyword}' for ddb2s3.{function}()", keyword)
            self.names[flag] = keyword
            if value is None or value is False:
                continue
            if value is True:
                self.args.append(flag)
            else:
                self.args.append(f"{flag}={_flag_text(keyword, value)}")
        positional = [os.fspath(p) if isinstance(p, os.PathLike) else p for p in positional]
        for value in positional:
            if not isinstance(value, str):
                raise usage_error(f"the positional arguments of ddb2s3.{function}() are str, not "
                                  f"{type(value).__name__} ({value!r})")
        # After "--" every argument is positional, even one that begins with '-'.
        self.args += ["--", *positional]

    def run(self, native, *args):
        try:
            return json.loads(native(self.args, self.credentials, *args))
        except Error as e:
            in_keyword_words(e, self.names)
            raise


def _callable(value, keyword):
    if value is not None and not callable(value):
        raise usage_error(f"{keyword} must be callable, not {type(value).__name__}", keyword)


def scan(table, dest, *, process_func=None, progress=None, progress_interval=1.0, **options):
    """Copies table to dest (s3://BUCKET/PREFIX or a local directory) as `ddb2s3 scan TABLE DEST` does.

    options: the program's scan options in snake_case (file_size, format, compression, total_segments,
    segment, run_id, resume, max_rcu, scan_kwargs, filter, values, source_region, dest_endpoint_url, ...).
    process_func(item) -> bytes: the bytes written for each item (b"" drops it); item is the dict boto3's
    TypeDeserializer gives (Decimal, set, Binary). progress(counters) is called every progress_interval
    seconds from this thread. Returns the run's summary (what `ddb2s3 scan --json` prints)."""
    _callable(process_func, "process_func")
    _callable(progress, "progress")
    if (isinstance(progress_interval, bool) or not isinstance(progress_interval, (int, float))
            or not math.isfinite(progress_interval) or progress_interval <= 0):
        raise usage_error(f"progress_interval must be a number of seconds above 0, not {progress_interval!r}",
                          "progress_interval")
    if process_func is not None and options.get("format") is not None:
        raise usage_error("format and process_func exclude each other: process_func's bytes are the lines", "format")
    call = _Call("scan", "scan", [table, dest], options, {**_SOURCE_KEYS, **_DEST_KEYS})
    return call.run(_native.scan, process_func, _item_from_line, progress, float(progress_interval))


def finalize(dest, run_id, **options):
    """Writes the manifests of a scan that many processes shared (segment=...), as `ddb2s3 finalize`."""
    options["run_id"] = run_id
    call = _Call("finalize", "finalize", [dest], options, _DEST_KEYS)
    return call.run(_native.finalize)


def verify(dest, run_id, *, deep=False, **options):
    """Checks a finished run as `ddb2s3 verify` does; returns the report (never raises for problems found:
    report["ok"] and report["problems"] say what is wrong)."""
    options["run_id"] = run_id
    options["deep"] = deep
    call = _Call("verify", "verify", [dest], options, _DEST_KEYS)
    return call.run(_native.verify)


def _name_source_side(call, options):
    """Errors of export and export-status name the DynamoDB side as --profile, --region, --endpoint-url:
    in keyword words, the spelling the caller used."""
    for member in ("profile", "region", "endpoint_url"):
        if "source_" + member in options:
            call.names["--" + member.replace("_", "-")] = "source_" + member


def export(table, dest, *, progress=None, **options):
    """Starts DynamoDB's point-in-time export of table to dest (s3://BUCKET/PREFIX) and, unless wait=False,
    waits for it, as `ddb2s3 export`; returns the ExportDescription. FAILED, or still IN_PROGRESS after
    max_attempts polls: ExportError. progress(poll) is called at each DescribeExport."""
    _callable(progress, "progress")
    wait = options.pop("wait", True)
    if not wait:
        options["no_wait"] = True
    call = _Call("export", "export", [table, dest], options, {**_SOURCE_KEYS, **_UNPREFIXED_KEYS}, _EXPORT_ALIASES)
    call.names["--no-wait"] = "wait"
    _name_source_side(call, options)
    return call.run(_native.export, progress)


def export_chain(table, dest, *, progress=None, **options):
    """One run of the daily incremental chain kept under dest (s3://BUCKET/PREFIX), as `ddb2s3 export TABLE
    DEST --chain`: on the first run a full export (as of export_time, default now) or the adopted base=...;
    then the incremental exports from where the chain ends to now (windows of at most 24 hours), each recorded
    in PREFIX/ddb2s3-chain.json as it completes; with merge=True a new snapshot PREFIX/snapshots/<TIME>/.
    Returns what `export --chain --json` prints: action ("started-base", "adopted-base", "advanced",
    "up-to-date"), state, exports (their ExportDescriptions), through, incrementals, snapshot, nextWindow (up
    to date) and merge (the merge's counts).

    options: the export's flags (export_time, view, check_interval, max_attempts, sse, sse_kms_key_id,
    expected_bucket_owner, source_region/region, source_endpoint_url/endpoint_url, ...), the chain's (base,
    merge, partitions, file_size) and its S3 side's (dest_profile, dest_region, dest_endpoint_url,
    dest_aws_access_key_id...). An export of the run that FAILED, or is still IN_PROGRESS after max_attempts
    polls, raises ExportError (its description, and .chain: where the chain stays) after nothing was recorded
    for it: the next run covers the same window again. Another run holding the chain: AwsError, code
    ChainBusy. progress(poll) is called at each DescribeExport (attempt 0: an export started)."""
    _callable(progress, "progress")
    if options.get("chain") not in (None, True):
        raise usage_error("export_chain() always runs the chain: leave out chain", "chain")
    options["chain"] = True
    call = _Call("export_chain", "export", [table, dest], options,
                 {**_SOURCE_KEYS, **_UNPREFIXED_KEYS, **_DEST_KEYS}, _EXPORT_ALIASES)
    for member in _KEYS:  # the library names the chain's S3 side "s3"
        call.names[f"s3.{member}"] = f"dest_aws_{member}"
    _name_source_side(call, options)
    return call.run(_native.export_chain, progress)


def export_status(export_arn, *, wait=False, progress=None, **options):
    """Describes an export (DescribeExport), or with wait=True waits until it is COMPLETED or FAILED, as
    `ddb2s3 export-status`; returns the ExportDescription (ExportError as export())."""
    _callable(progress, "progress")
    options["wait"] = wait
    call = _Call("export_status", "export-status", [export_arn], options, {**_SOURCE_KEYS, **_UNPREFIXED_KEYS})
    _name_source_side(call, options)
    return call.run(_native.export_status, progress)


def segment_from_environment(total_segments):
    """The segment `segment="auto"` resolves to: the array job's index from JOB_COMPLETION_INDEX
    (Kubernetes), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch) or SLURM_ARRAY_TASK_ID (Slurm)."""
    if isinstance(total_segments, bool) or not isinstance(total_segments, int):
        raise usage_error(f"total_segments must be an int, not {type(total_segments).__name__}", "total_segments")
    try:
        return _native.segment_from_environment(total_segments)
    except Error as e:
        in_keyword_words(e, {"--segment": "segment", "--total-segments": "total_segments"})
        raise
