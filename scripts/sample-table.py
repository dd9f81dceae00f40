#!/usr/bin/python3
"""Creates (or re-creates) a sample DynamoDB table with every attribute type, and an S3 bucket, on
local servers: used by scripts/quickstart. Uses Debian's python3-boto3 (low-level typed API, so that
numbers keep all 38 digits)."""
import argparse

import boto3

p = argparse.ArgumentParser()
p.add_argument("--dynamodb-endpoint", required=True)
p.add_argument("--s3-endpoint", required=True)
p.add_argument("--table", default="quickstart-orders")
p.add_argument("--bucket", default="quickstart-bucket")
p.add_argument("--items", type=int, default=5000)
a = p.parse_args()

kw = dict(region_name="us-east-1", aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
ddb = boto3.client("dynamodb", endpoint_url=a.dynamodb_endpoint, **kw)
if a.table in ddb.list_tables()["TableNames"]:
    ddb.delete_table(TableName=a.table)
    ddb.get_waiter("table_not_exists").wait(TableName=a.table, WaiterConfig={"Delay": 1})
ddb.create_table(
    TableName=a.table,
    KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "order", "KeyType": "RANGE"}],
    AttributeDefinitions=[
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "order", "AttributeType": "N"},
    ],
    BillingMode="PAY_PER_REQUEST",
)
ddb.get_waiter("table_exists").wait(TableName=a.table, WaiterConfig={"Delay": 1})


def item(i):
    return {
        "customer": {"S": f"customer-{i % 97:03d}"},
        "order": {"N": str(i)},
        "total": {"N": "12345678901234567890.123456789012345678" if i % 10 == 0 else f"{i * 7 % 1000}.{i % 100:02d}"},
        "tiny": {"N": "1E-130"},
        "note": {"S": "déjà vu ✓ \"quoted\" \\ tab\tnewline\n" if i % 3 == 0 else f"order {i}"},
        "paid": {"BOOL": i % 2 == 0},
        "coupon": {"NULL": True},
        "tags": {"SS": ["new", "priority"] if i % 2 else ["gift"]},
        "sizes": {"NS": ["1", "2.5", "38"]},
        "blobs": {"BS": [b"\x00\x01\x02", b"\xff"]},
        "signature": {"B": bytes([i % 256, 0, 255])},
        "address": {"M": {"city": {"S": "Zürich"}, "lines": {"L": [{"S": "Bahnhofstrasse 1"}, {"N": "8001"}]},
                          "geo": {"M": {"lat": {"N": "47.3769"}, "lon": {"N": "8.5417"}}}}},
        "history": {"L": [{"M": {"at": {"N": str(1700000000 + i)}, "state": {"S": "created"}}}, {"NULL": True}]},
        "empty_map": {"M": {}},
        "empty_list": {"L": []},
    }


batch = []
for i in range(a.items):
    batch.append({"PutRequest": {"Item": item(i)}})
    if len(batch) == 25 or i == a.items - 1:
        req = {a.table: batch}
        while req:
            req = ddb.batch_write_item(RequestItems=req).get("UnprocessedItems")
        batch = []

s3 = boto3.client("s3", endpoint_url=a.s3_endpoint, **kw)
if a.bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=a.bucket)
print(f"table {a.table}: {a.items} items with every DynamoDB type; bucket {a.bucket}")
