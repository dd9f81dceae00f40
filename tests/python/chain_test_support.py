"""What the tests of the daily chain (`export --chain` from Python, Airflow and the scheduler recipes) share:
a table in dynalite, a bucket in s3rver, and the export test server (a process) writing real exports of the
table into s3rver, computed from snapshots of the table that the test records at chosen times.

Times as a daily job meets them (tests/pitr_chain_test.cpp's CLI test does the same): the export server's
point-in-time window ends 5 minutes before it started, the base is taken as of `t0`, three days before that
(plus 10 minutes), and the table's changes are recorded as of `changed_at`, 400 s before the server started:
inside the last of the three consecutive windows (each under 24 hours) that the next run exports at once,
without waiting."""
import datetime
import math
from decimal import Decimal

import boto3
from boto3.dynamodb.types import Binary

from conftest import ACCESS_KEY, REGION, SECRET_KEY
from items_support import scanned_items, snapshot_items

DAY = 86400
BIG = Decimal("-1234567890.1234567890123456789012345678")  # 38 digits: a double keeps 17

BASE_ITEMS = [{"id": f"item-{i:03d}", "n": i, "text": "x" * (i % 5)} for i in range(30)] + [
    {"id": "changes", "n": Decimal("1"), "tags": {"a", "b"}},
    {"id": "goes", "ss": {"x"}, "note": "deleted after the base"},
    {"id": "types", "big": BIG, "ns": {Decimal("1"), Decimal("2.5"), BIG}, "bs": {Binary(b"\x00"), Binary(b"\xff")},
     "bin": Binary(b"\x00bin\xff"), "null": None, "yes": True, "list": [1, "two", {"three": None}],
     "map": {"nested": {"deeper": {"ss": {"z"}}}}, "unicode": "snow \u2603, cjk \u6f22\u5b57, quote \" \\"},
]


class ChainTable:
    """A chain's world: .table (hash key id, S) holding BASE_ITEMS, .bucket, .server (the export test server,
    knowing the table and writing its exports into s3rver; an export is IN_PROGRESS when started and
    COMPLETED at its first DescribeExport), .t0 (the base's time, its snapshot recorded) and .changed_at.
    .change() changes the table and records it as of changed_at."""

    def __init__(self, servers, ddb, s3, make_table, make_bucket, start_export_server, polls_in_progress=0):
        self.ddb, self.s3 = ddb, s3
        self.table = make_table(items=BASE_ITEMS, key="id")
        self.bucket = make_bucket()
        self.server = start_export_server(tables=[self.table], polls_in_progress=polls_in_progress,
                                          backing=servers)
        started = math.floor(self.server["started"])
        self.t0 = started - 3 * DAY + 600
        self.changed_at = started - 400
        self.server.snapshot(self.table, self.t0)
        self._resource = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        ).resource("dynamodb", endpoint_url=servers["dynamodb"]).Table(self.table)

    @property
    def t0_datetime(self):
        return datetime.datetime.fromtimestamp(self.t0, datetime.timezone.utc)

    def change(self):
        """An item changed (a 38-digit number, binary), one added, one deleted; recorded as of changed_at."""
        self._resource.put_item(Item={"id": "changes", "n": BIG, "tags": {"b", "c"}, "b": Binary(b"\x00\x01")})
        self._resource.put_item(Item={"id": "added", "l": [None, Decimal("0.000001")], "m": {}})
        self._resource.delete_item(Key={"id": "goes"})
        self.server.snapshot(self.table, self.changed_at)

    def scanned(self):
        """The table now: a fresh scan, canonical and sorted."""
        return scanned_items(self.ddb, self.table)

    def snapshot(self, location):
        """The items of a merged snapshot folder (s3://...), canonical and sorted."""
        return snapshot_items(self.s3, location)

    def state_bytes(self, prefix):
        """PREFIX/ddb2s3-chain.json as stored, or None."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=f"{prefix}/ddb2s3-chain.json")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None


def snapshot_folder_name(through):
    """The folder name of a snapshot through `through` (ISO 8601 text, as the chain's JSON gives it):
    YYYYMMDDTHHMMSSZ."""
    t = datetime.datetime.fromisoformat(through.replace("Z", "+00:00"))
    return t.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
