#!/usr/bin/python3
"""The Airflow DynamoDBToS3Operator's scan algorithm, re-created with boto3 for the benchmark baseline.

As airflow/providers/amazon/aws/transfers/dynamodb_to_s3.py does: Table.scan() page loop, every item
through the default process_func (json.dumps with Decimal -> float, one line each) into a local
NamedTemporaryFile, uploaded with S3 upload_file when it reaches file_size, the last file at the end.
With --processes P > 1 it runs P copies of itself, one Segment of P each (how Airflow users parallelise:
one task per segment). Prints {"items":N,"files":N,"bytes":N} on stdout.
"""
import argparse
import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from os.path import getsize
from tempfile import NamedTemporaryFile

import boto3
from botocore.config import Config


class JSONEncoder(json.JSONEncoder):
    """Airflow's encoder: DynamoDB numbers arrive as Decimal and leave as float."""

    def default(self, obj):
        if isinstance(obj, Decimal):
            return float(obj)
        return super().default(obj)


def convert_item_to_json_bytes(item):
    return (json.dumps(item, cls=JSONEncoder) + "\n").encode("utf-8")


class Run:
    def __init__(self, args):
        self.args = args
        self.items = 0
        self.files = 0
        self.bytes = 0
        session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
        self.table = session.resource("dynamodb", endpoint_url=args.dynamodb_endpoint).Table(args.table)
        self.s3 = session.client("s3", endpoint_url=args.s3_endpoint, config=Config(s3={"addressing_style": "path"}))

    def upload(self, temp_file):
        temp_file.flush()
        temp_file.seek(0)
        self.bytes += getsize(temp_file.name)
        self.files += 1
        self.s3.upload_file(Filename=temp_file.name, Bucket=self.args.bucket, Key=self.args.prefix + str(uuid.uuid4()))

    def scan_and_upload(self, temp_file, scan_kwargs):
        while True:
            response = self.table.scan(**scan_kwargs)
            items = response["Items"]
            for item in items:
                temp_file.write(convert_item_to_json_bytes(item))
            self.items += len(items)
            if "LastEvaluatedKey" not in response:
                break
            scan_kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            temp_file.flush()
            if getsize(temp_file.name) >= self.args.file_size:
                self.upload(temp_file)
                temp_file.close()
                temp_file = NamedTemporaryFile()
        return temp_file

    def execute(self):
        scan_kwargs = {}
        if self.args.total_segments > 1:
            scan_kwargs = {"Segment": self.args.segment, "TotalSegments": self.args.total_segments}
        with NamedTemporaryFile() as f:
            f = self.scan_and_upload(f, scan_kwargs)
            self.upload(f)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dynamodb-endpoint", required=True)
    p.add_argument("--s3-endpoint", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--bucket", default="bench")
    p.add_argument("--prefix", default="airflow/")
    p.add_argument("--file-size", type=int, default=128 << 20)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--segment", type=int, default=0)
    p.add_argument("--total-segments", type=int, default=1)
    args = p.parse_args()

    if args.processes > 1:
        base = [sys.executable, os.path.abspath(__file__), "--dynamodb-endpoint", args.dynamodb_endpoint,
                "--s3-endpoint", args.s3_endpoint, "--table", args.table, "--bucket", args.bucket,
                "--prefix", args.prefix, "--file-size", str(args.file_size),
                "--total-segments", str(args.processes)]
        children = [subprocess.Popen(base + ["--segment", str(s)], stdout=subprocess.PIPE)
                    for s in range(args.processes)]
        totals = {"items": 0, "files": 0, "bytes": 0}
        failed = False
        for c in children:
            out, _ = c.communicate()
            failed |= c.returncode != 0
            if c.returncode == 0:
                for k, v in json.loads(out).items():
                    totals[k] += v
        print(json.dumps(totals))
        return 1 if failed else 0

    run = Run(args)
    run.execute()
    print(json.dumps({"items": run.items, "files": run.files, "bytes": run.bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
