"""Items as the tests compare them: a table's items through boto3, and the {"Item":...} lines of a snapshot's
data files (a chain's merged snapshot), both as sorted canonical texts of the values boto3's
TypeDeserializer gives (exact for Decimal, set and Binary)."""
import gzip
from decimal import Decimal

from boto3.dynamodb.types import Binary, TypeDeserializer

from ddb2s3._items import item_from_line

DESERIALIZER = TypeDeserializer()


def typed_items(ddb, table):
    """Every item of table through boto3's low-level client (typed, B as bytes), all pages."""
    items, kwargs = [], {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def canonical(value):
    """A text of a value as boto3's TypeDeserializer gives it, exact for Decimal, set and Binary."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{canonical(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, (set, frozenset)):
        return "<" + ",".join(sorted(canonical(v) for v in value)) + ">"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, Binary):
        return "B" + value.value.hex()
    if isinstance(value, Decimal):
        return "N" + str(value)
    return type(value).__name__ + repr(value)


def scanned_items(ddb, table):
    """A fresh scan of the table, canonical and sorted."""
    return sorted(canonical({k: DESERIALIZER.deserialize(v) for k, v in item.items()})
                  for item in typed_items(ddb, table))


def snapshot_items(s3, location):
    """The items of a snapshot folder s3://BUCKET/FOLDER: its data/*.json.gz files' {"Item":...} lines,
    canonical and sorted."""
    assert location.startswith("s3://"), location
    bucket, folder = location[5:].split("/", 1)
    items = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder.rstrip("/") + "/data/")
    for page in pages:
        for obj in page.get("Contents", []):
            assert obj["Key"].endswith(".json.gz"), obj["Key"]
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            items += [canonical(item_from_line(line)) for line in body.splitlines() if line.strip()]
    return sorted(items)
