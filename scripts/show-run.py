#!/usr/bin/python3
"""Prints a run's manifest-summary.json and the first lines of its first data file, read back from
local S3 (used by scripts/quickstart)."""
import gzip
import json
import sys

import boto3

endpoint, bucket, summary_key = sys.argv[1], sys.argv[2], sys.argv[3]
kw = dict(region_name="us-east-1", aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
s3 = boto3.client("s3", endpoint_url=endpoint, **kw)
summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
print(f"manifest-summary.json (s3://{bucket}/{summary_key}):")
print(json.dumps(summary, indent=2))
files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().decode().splitlines()
first = json.loads(files[0])
data = s3.get_object(Bucket=bucket, Key=first["dataFileS3Key"])["Body"].read()
if first["dataFileS3Key"].endswith(".gz"):
    data = gzip.decompress(data)
print(f"\nfirst lines of s3://{bucket}/{first['dataFileS3Key']} ({first['itemCount']} items):")
for line in data.decode().splitlines()[:3]:
    print(line)
