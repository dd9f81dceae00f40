#!/usr/bin/env python3
"""Signs requests with botocore's SigV4 signer, for tests/sigv4_botocore_test.cpp.

stdin: a JSON list of requests, each
  {"method", "url", "headers": [[name, value], ...], "body_base64", "service", "region",
   "timestamp": "20150830T123600Z", "access_key", "secret_key", "token" (may be "")}
stdout: for each request, its headers after signing, one "lower-case-name:value" line each, sorted,
then one empty line. S3SigV4Auth signs "s3" requests (path as sent, x-amz-content-sha256 added),
SigV4Auth all others.
"""
import base64
import datetime
import json
import sys
import types

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def frozen_datetime_module(timestamp):
    """botocore.auth reads the clock through datetime.datetime.utcnow(): answer with the given time."""
    frozen = datetime.datetime.strptime(timestamp, botocore.auth.SIGV4_TIMESTAMP)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return frozen

        @classmethod
        def now(cls, tz=None):
            return frozen if tz is None else frozen.replace(tzinfo=datetime.timezone.utc).astimezone(tz)

    return types.SimpleNamespace(datetime=FrozenDatetime, timezone=datetime.timezone)


def sign(spec):
    credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("token") or None)
    auth_class = S3SigV4Auth if spec["service"] == "s3" else SigV4Auth
    auth = auth_class(credentials, spec["service"], spec["region"])
    body = base64.b64decode(spec.get("body_base64", ""))
    request = AWSRequest(method=spec["method"], url=spec["url"], data=body)
    for name, value in spec["headers"]:
        request.headers[name] = value
    # Older botocore (Debian's 1.29) reads datetime.datetime.utcnow(), newer get_current_datetime().
    frozen = frozen_datetime_module(spec["timestamp"])
    saved = {name: getattr(botocore.auth, name) for name in ("datetime", "get_current_datetime")
             if hasattr(botocore.auth, name)}
    botocore.auth.datetime = frozen
    if "get_current_datetime" in saved:
        botocore.auth.get_current_datetime = lambda *args, **kwargs: frozen.datetime.utcnow()
    try:
        auth.add_auth(request)
    finally:
        for name, value in saved.items():
            setattr(botocore.auth, name, value)
    if request.context.get("timestamp") != spec["timestamp"]:
        raise SystemExit(f"botocore signed at {request.context.get('timestamp')}, not {spec['timestamp']}")
    return sorted(f"{name.lower()}:{value}" for name, value in request.headers.items())


def main():
    requests = json.load(sys.stdin)
    out = []
    for spec in requests:
        out.extend(sign(spec))
        out.append("")
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))


if __name__ == "__main__":
    main()
