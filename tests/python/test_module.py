"""import ddb2s3 against dynalite, s3rver and the export test server: what a user of the module would check."""
import base64
import datetime
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer

import ddb2s3
from ddb2s3._items import item_from_line
from chain_test_support import BASE_ITEMS, DAY, snapshot_folder_name
from items_support import typed_items

DESERIALIZER = TypeDeserializer()
LONG = Decimal("-1234567890.1234567890123456789012345678")  # 38 digits: a double keeps 17


def boto3_items(ddb, table):
    """Every item as boto3's TypeDeserializer gives it, by key."""
    return {i["pk"]["S"]: {k: DESERIALIZER.deserialize(v) for k, v in i.items()} for i in typed_items(ddb, table)}


def sample_items(n=40):
    items = [{"pk": f"item-{i:04d}", "n": i, "text": "x" * (i % 7)} for i in range(n)]
    items += [
        {"pk": "types", "long": LONG, "big": Decimal("1.5E+30"),
         "small": Decimal("1E-100"), "ss": {"a", "b", "ü"}, "ns": {Decimal("1"), Decimal("2.5"), LONG},
         "bs": {Binary(b"\x00\x01"), Binary(b"\xff")}, "bin": Binary(b"\x00bin\xff"), "null": None,
         "yes": True, "no": False, "list": [1, "two", [Decimal("3.3")], {"four": None}],
         "map": {"nested": {"deeper": {"ss": {"z"}, "n": Decimal("0.000001")}}, "empty": {}},
         "unicode": "snow ☃, emoji 😀, cjk 漢字, nul \u0000, quote \" backslash \\"},
    ]
    return items


def object_bytes(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def same_as_plain_json(expected, actual):
    """expected (TypeDeserializer) against a jsonl value (parse_float/int=Decimal): sets are arrays in any
    order, binary is base64 text."""
    if isinstance(expected, set):
        return isinstance(actual, list) and sorted(map(_plain, expected)) == sorted(actual)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(same_as_plain_json(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(same_as_plain_json(e, a) for e, a in zip(expected, actual)))
    return _plain(expected) == actual


def _plain(v):
    return base64.b64encode(v.value).decode() if isinstance(v, Binary) else v


@pytest.fixture
def endpoints(servers):
    return {"source_endpoint_url": servers["dynamodb"], "dest_endpoint_url": servers["s3"]}


def test_scan_to_s3_round_trip_every_item_as_boto3_reads_it(make_table, make_bucket, s3, ddb, endpoints):
    table = make_table(items=sample_items())
    bucket = make_bucket()
    summary = ddb2s3.scan(table, f"s3://{bucket}/exports", file_size=2000, page_size=7, total_segments=2,
                          **endpoints)
    expected = boto3_items(ddb, table)
    assert summary["itemCount"] == len(expected) == 41
    assert summary["table"] == table
    assert summary["fileCount"] == len(summary["files"]) > 1  # rolled at file_size
    run = summary["runId"]
    assert object_bytes(s3, bucket, f"exports/{run}/manifest-summary.json")
    found = {}
    for f in summary["files"]:
        data = object_bytes(s3, bucket, f["key"])
        assert len(data) == f["size"]
        for line in gzip.decompress(data).decode().splitlines():
            item = json.loads(line, parse_float=Decimal, parse_int=Decimal)
            found[item["pk"]] = item
    assert found.keys() == expected.keys()
    for pk, item in expected.items():
        assert same_as_plain_json(item, found[pk]), pk
    assert found["types"]["long"] == LONG  # every digit, not a double


def test_scan_to_a_directory_in_dynamodb_json_is_what_dynamodb_sent(make_table, ddb, endpoints, tmp_path):
    table = make_table(items=sample_items(10))
    summary = ddb2s3.scan(table, str(tmp_path), format="dynamodb-json", compression="none",
                          source_endpoint_url=endpoints["source_endpoint_url"], run_id="r1")
    assert summary["runId"] == "r1"
    assert (tmp_path / "r1" / "manifest-summary.json").is_file()
    lines = b"".join(p.read_bytes() for p in sorted((tmp_path / "r1" / "data").iterdir())).splitlines()
    by_key = {}
    for line in lines:
        typed = json.loads(line)["Item"]
        by_key[typed["pk"]["S"]] = typed
    for item in typed_items(ddb, table):
        typed = by_key.pop(item["pk"]["S"])
        for name, value in item.items():
            (kind, v), = value.items()
            (kind2, v2), = typed[name].items()
            assert kind == kind2, name
            if kind == "B":
                assert base64.b64decode(v2) == v
            elif kind == "BS":
                assert sorted(map(base64.b64decode, v2)) == sorted(v)
            elif kind in ("SS", "NS"):
                assert sorted(v2) == sorted(v)
            elif kind in ("M", "L"):
                assert item_from_line(json.dumps({"Item": {"x": typed[name]}}))["x"] == DESERIALIZER.deserialize(value)
            else:
                assert v2 == v, name
    assert not by_key


def test_finalize_writes_the_manifests_of_a_scan_three_processes_shared(make_table, make_bucket, s3, endpoints):
    table = make_table(items=sample_items(60))
    bucket = make_bucket()
    dest = f"s3://{bucket}/shared"
    counts = []
    for segment in range(3):
        part = ddb2s3.scan(table, dest, segment=segment, total_segments=3, run_id="run-3", **endpoints)
        assert part["segment"] == segment
        assert part["segmentManifestKey"] == f"shared/run-3/segments/{segment}.json"
        assert "manifestSummaryKey" not in part
        counts.append(part["itemCount"])
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="shared/run-3/manifest-summary.json")
    summary = ddb2s3.finalize(dest, "run-3", dest_endpoint_url=endpoints["dest_endpoint_url"])
    assert summary["itemCount"] == sum(counts) == 61
    assert summary["totalSegments"] == 3
    written = json.loads(object_bytes(s3, bucket, "shared/run-3/manifest-summary.json"))
    assert written["itemCount"] == 61
    # finalize of a run whose segments are not all there is refused, naming what is missing
    ddb2s3.scan(table, dest, segment=1, total_segments=3, run_id="run-partial", **endpoints)
    with pytest.raises(ddb2s3.Error) as e:
        ddb2s3.finalize(dest, "run-partial", dest_endpoint_url=endpoints["dest_endpoint_url"])
    assert "0" in str(e.value) and "2" in str(e.value)


def test_verify_says_ok_and_finds_a_corrupted_file(make_table, endpoints, tmp_path, cli):
    table = make_table(items=sample_items(30))
    ddb2s3.scan(table, str(tmp_path), run_id="v", file_size=500, source_endpoint_url=endpoints["source_endpoint_url"])
    report = ddb2s3.verify(str(tmp_path), "v", deep=True)
    assert report["ok"] is True and report["problems"] == []
    assert report["items"] == 31
    # the dict is what the program prints with --json (but for the time it took)
    printed = json.loads(subprocess.run([str(cli), "verify", str(tmp_path), "--run-id", "v", "--deep", "--json"],
                                        check=True, capture_output=True, text=True).stdout)
    assert {k: v for k, v in printed.items() if k != "seconds"} == {k: v for k, v in report.items() if k != "seconds"}
    victim = sorted((tmp_path / "v" / "data").iterdir())[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    report = ddb2s3.verify(str(tmp_path), "v", deep=True)  # problems are findings, not exceptions
    assert report["ok"] is False
    assert any(victim.name in p["key"] for p in report["problems"]), report["problems"]


def test_process_func_gets_boto3s_items_and_its_bytes_are_what_is_stored(make_table, ddb, endpoints, tmp_path):
    table = make_table(items=sample_items(20))
    expected = boto3_items(ddb, table)
    seen = {}
    threads = set()

    def process(item):
        seen[item["pk"]] = item
        threads.add(threading.get_ident())
        if item["pk"] == "item-0003":
            return b""  # dropped
        return f"{item['pk']}|{len(item)}|ü\n".encode()

    summary = ddb2s3.scan(table, str(tmp_path), process_func=process, compression="none", run_id="p",
                          total_segments=3, source_endpoint_url=endpoints["source_endpoint_url"])
    assert threading.get_ident() not in threads  # called on the copy's threads (with the GIL)
    assert seen.keys() == expected.keys()
    for pk, item in expected.items():
        assert seen[pk] == item, pk
        assert {k: type(v) for k, v in seen[pk].items()} == {k: type(v) for k, v in item.items()}, pk
    types = seen["types"]
    assert str(types["long"]) == str(LONG) and isinstance(types["long"], Decimal)
    assert isinstance(types["ss"], set) and isinstance(types["bin"], Binary)
    assert types["bin"].value == b"\x00bin\xff"
    assert types["unicode"] == expected["types"]["unicode"]
    stored = b"".join(p.read_bytes() for p in sorted((tmp_path / "p" / "data").iterdir()))
    want = sorted(f"{pk}|{len(item)}|ü\n".encode() for pk, item in expected.items() if pk != "item-0003")
    assert sorted(stored.splitlines(keepends=True)) == want
    assert summary["itemCount"] == len(want)


def test_an_exception_in_process_func_stops_the_run_and_is_raised(make_table, endpoints, tmp_path):
    table = make_table(items=sample_items(50))

    class Refused(Exception):
        pass

    def process(item):
        if item["pk"] == "item-0007":
            raise Refused(item["pk"])
        return b"x\n"

    with pytest.raises(Refused, match="item-0007"):
        ddb2s3.scan(table, str(tmp_path), process_func=process, run_id="boom", page_size=5,
                    source_endpoint_url=endpoints["source_endpoint_url"])
    assert not (tmp_path / "boom" / "manifest-summary.json").exists()

    with pytest.raises(TypeError, match="process_func must return bytes, not str"):
        ddb2s3.scan(table, str(tmp_path), process_func=lambda item: "text", run_id="str",
                    source_endpoint_url=endpoints["source_endpoint_url"])


def test_item_from_line_is_boto3s_type_deserializer():
    typed = {
        "s": {"S": "ü 😀 \u0000"}, "n": {"N": "-1234567890.1234567890123456789012345678"},
        "e": {"N": "1E+125"}, "tiny": {"N": "-1E-130"}, "z": {"N": "0"}, "b": {"B": base64.b64encode(b"\x00\xff").decode()},
        "bool": {"BOOL": True}, "null": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.50"]},
        "bs": {"BS": [base64.b64encode(b"x").decode(), base64.b64encode(b"").decode()]},
        "l": {"L": [{"N": "1"}, {"M": {"k": {"S": "v"}}}, {"L": []}]}, "m": {"M": {"inner": {"NS": ["7"]}}},
    }
    # botocore hands TypeDeserializer bytes for B and BS (it decodes the base64 of the wire)
    wire = {k: ({"B": base64.b64decode(v["B"])} if "B" in v else
                {"BS": [base64.b64decode(x) for x in v["BS"]]} if "BS" in v else v) for k, v in typed.items()}
    expected = {k: DESERIALIZER.deserialize(v) for k, v in wire.items()}
    got = item_from_line(json.dumps({"Item": typed}).encode())
    assert got == expected
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}
    assert str(got["n"]) == "-1234567890.1234567890123456789012345678"


def test_progress_gets_the_counters_from_the_calling_thread(make_table, endpoints, tmp_path):
    table = make_table(items=sample_items(30))
    calls = []
    saw_items = threading.Event()
    caller = threading.get_ident()
    processed = []

    def progress(counters):
        assert threading.get_ident() == caller
        calls.append(dict(counters))
        if counters["items"] > 0:
            saw_items.set()

    def process(item):
        # The first page (4 items) goes through; the second waits until progress has counted the first:
        # progress is called while the copy runs, with its counters.
        processed.append(item["pk"])
        if len(processed) > 4:
            assert saw_items.wait(timeout=60)
        return b"x\n"

    summary = ddb2s3.scan(table, str(tmp_path), process_func=process, progress=progress, progress_interval=0.01,
                          page_size=4, source_endpoint_url=endpoints["source_endpoint_url"])
    keys = {"items", "scanned", "scan_bytes", "stored_bytes", "files", "pages", "consumed_rcu", "throttles",
            "segments_done", "segments_total"}
    assert calls and all(c.keys() == keys for c in calls)
    counted = [c for c in calls if c["items"] > 0]
    assert counted and counted[0]["items"] >= 4 and counted[0]["pages"] >= 1 and counted[0]["scan_bytes"] > 0
    assert counted[0]["items"] < summary["itemCount"]  # seen before the end
    assert counted[-1]["segments_total"] == 1
    items = [c["items"] for c in calls]
    assert items == sorted(items)


def test_errors_carry_code_status_request_id_and_keyword_names(make_bucket, endpoints, tmp_path):
    with pytest.raises(ddb2s3.AwsError) as e:
        ddb2s3.scan("no-such-table", str(tmp_path), source_endpoint_url=endpoints["source_endpoint_url"])
    err = e.value
    assert isinstance(err, ddb2s3.Error)
    assert err.code == "ResourceNotFoundException"
    assert err.http_status == 400
    assert err.request_id
    assert err.kind == "client"
    assert err.operation == "DescribeTable"
    assert "ResourceNotFoundException" in str(err)

    # A bad option is a UsageError naming the keyword, raised before any AWS call: nothing connects.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    bucket = make_bucket()
    cases = [
        (dict(file_size="0"), "file_size"),
        (dict(file_size=0), "file_size"),
        (dict(total_segments=0), "total_segments"),
        (dict(compression="lz4"), "compression"),
        (dict(segment=1, total_segments=1, run_id="r"), "segment"),
        (dict(scan_kwargs={"Limit": "x"}), "scan_kwargs"),
        (dict(filter="a = :a", scan_kwargs={"FilterExpression": "b"}), "filter"),
        (dict(max_rcu=-1), "max_rcu"),
        (dict(no_such_option=1), "no_such_option"),
        (dict(dest_aws_access_key_id="AKIAONLY"), "dest_aws_secret_access_key"),
    ]
    for kwargs, keyword in cases:
        with pytest.raises(ddb2s3.UsageError) as e:
            ddb2s3.scan("t", f"s3://{bucket}/p", source_endpoint_url=url, dest_endpoint_url=url, **kwargs)
        assert e.value.field == keyword, (kwargs, str(e.value))
        assert keyword in str(e.value), (kwargs, str(e.value))
        assert "--" not in str(e.value), (kwargs, str(e.value))
        assert e.value.kind == "usage" and e.value.code == "UsageError"
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    with pytest.raises(ddb2s3.UsageError, match="export_format"):
        ddb2s3.export("t", "s3://bucket/p", export_format="CSV", endpoint_url=url)
    with pytest.raises(ddb2s3.UsageError, match="max_attempts"):
        ddb2s3.export_status("arn:aws:dynamodb:us-east-1:1:table/t/export/x", max_attempts=0, endpoint_url=url)


def test_explicit_keys_win_over_the_environment(make_table, make_bucket, endpoints, tmp_path, monkeypatch, s3):
    table = make_table(items=sample_items(5))
    bucket = make_bucket()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "WRONG")  # s3rver refuses it
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "WRONG")
    with pytest.raises(ddb2s3.AwsError) as e:
        ddb2s3.scan(table, f"s3://{bucket}/env", **endpoints)
    assert e.value.http_status == 403
    summary = ddb2s3.scan(table, f"s3://{bucket}/given", dest_aws_access_key_id="S3RVER",
                          dest_aws_secret_access_key="S3RVER", **endpoints)
    assert summary["itemCount"] == 6
    assert s3.head_object(Bucket=bucket, Key=f"given/{summary['runId']}/manifest-summary.json")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "S3RVER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "S3RVER")
    with pytest.raises(ddb2s3.AwsError) as e:
        ddb2s3.scan(table, f"s3://{bucket}/wrong", dest_aws_access_key_id="NOTTHEKEY",
                    dest_aws_secret_access_key="TOPSECRET123", dest_aws_session_token="TOKEN456", **endpoints)
    assert e.value.http_status == 403
    for secret in ("TOPSECRET123", "TOKEN456"):
        assert all(secret not in str(v) for v in vars(e.value).values()) and secret not in str(e.value)


def test_export_completed_with_progress_at_each_poll(export_server, make_bucket):
    polls = []
    description = ddb2s3.export("orders", "s3://exports-bucket/daily", check_interval=0,
                                endpoint_url=export_server["url"], progress=polls.append)
    assert description["ExportStatus"] == "COMPLETED"
    assert description["S3Bucket"] == "exports-bucket" and description["S3Prefix"] == "daily"
    assert description["ItemCount"] == 1234
    assert [p["status"] for p in polls] == ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    assert [p["attempt"] for p in polls] == [0, 1, 2, 3]  # 0: started
    assert all(p["export_arn"] == description["ExportArn"] and p["max_attempts"] == 60 for p in polls)
    # export_status of it, and an export started without waiting
    again = ddb2s3.export_status(description["ExportArn"], source_endpoint_url=export_server["url"])
    assert again["ExportStatus"] == "COMPLETED"
    started = ddb2s3.export("orders", "s3://exports-bucket/later", wait=False, endpoint_url=export_server["url"])
    assert started["ExportStatus"] == "IN_PROGRESS"
    done = ddb2s3.export_status(started["ExportArn"], wait=True, check_interval=0,
                                endpoint_url=export_server["url"])
    assert done["ExportStatus"] == "COMPLETED"


@pytest.mark.export_server(fail=True, polls_in_progress=1)
def test_export_failed_is_an_export_error_with_the_description(export_server):
    with pytest.raises(ddb2s3.ExportError) as e:
        ddb2s3.export("orders", "s3://exports-bucket/p", check_interval=0, endpoint_url=export_server["url"])
    assert e.value.description["ExportStatus"] == "FAILED"
    assert e.value.code == "S3AccessDenied"
    assert "Access Denied" in str(e.value)


@pytest.mark.export_server(polls_in_progress=10)
def test_export_still_in_progress_after_max_attempts_is_an_export_error(export_server):
    with pytest.raises(ddb2s3.ExportError) as e:
        ddb2s3.export("orders", "s3://exports-bucket/p", check_interval=0, max_attempts=3,
                      endpoint_url=export_server["url"])
    assert e.value.description["ExportStatus"] == "IN_PROGRESS"
    assert "max_attempts 3" in str(e.value)


CHILD = textwrap.dedent("""
    import sys, json, ddb2s3
    table, dest, dynamodb, s3 = sys.argv[1:5]
    def progress(counters):
        if counters["items"] > 0:
            print(json.dumps(counters), flush=True)
    try:
        ddb2s3.scan(table, dest, run_id="ctrl-c", page_size=1, file_size=4096, progress=progress,
                    progress_interval=0.01, source_endpoint_url=dynamodb, dest_endpoint_url=s3)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
""")


def test_ctrl_c_cancels_the_scan_and_raises_keyboard_interrupt(make_table, make_bucket, servers, build_dir, s3):
    table = make_table(items=[{"pk": f"k{i:05d}", "pad": "p" * 200} for i in range(1500)])
    bucket = make_bucket()
    env = dict(os.environ, PYTHONPATH=str(build_dir / "python"))
    child = subprocess.Popen([sys.executable, "-c", CHILD, table, f"s3://{bucket}/c", servers["dynamodb"],
                              servers["s3"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = child.stdout.readline()  # the copy is under way
        counters = json.loads(first)
        assert counters["items"] > 0 and counters["pages"] > 0
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 3, err
    assert out.splitlines()[-1] == "KeyboardInterrupt"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "c/ctrl-c/manifest-summary.json" not in keys
    assert "c/ctrl-c/manifest-files.json" not in keys
    bucket_dir = Path(servers["s3_dir"]) / bucket
    leftovers = [p for p in bucket_dir.rglob("*") if "uploads" in p.name]
    assert not leftovers


def test_an_exception_in_progress_cancels_the_run_and_is_raised(make_table, endpoints, tmp_path):
    table = make_table(items=sample_items(30))
    called = threading.Event()

    def progress(counters):
        called.set()
        raise RuntimeError("stop from progress")

    def process(item):
        assert called.wait(timeout=60)  # the copy is still running when progress raises
        return b"x\n"

    with pytest.raises(RuntimeError, match="stop from progress"):
        ddb2s3.scan(table, str(tmp_path), run_id="prog", process_func=process, progress=progress,
                    progress_interval=0.01, source_endpoint_url=endpoints["source_endpoint_url"])
    assert not (tmp_path / "prog" / "manifest-summary.json").exists()


EXPORT_CHILD = textwrap.dedent("""
    import sys, json, ddb2s3
    def progress(poll):
        print(json.dumps(poll), flush=True)
    try:
        ddb2s3.export("orders", "s3://exports-bucket/p", check_interval=600, endpoint_url=sys.argv[1],
                      progress=progress)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
""")


@pytest.mark.export_server(polls_in_progress=50)
def test_ctrl_c_while_an_export_waits_between_polls_raises_at_once(export_server, build_dir):
    env = dict(os.environ, PYTHONPATH=str(build_dir / "python"))
    child = subprocess.Popen([sys.executable, "-c", EXPORT_CHILD, export_server["url"]], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        poll = json.loads(child.stdout.readline())  # started; the first DescribeExport is 600 s away
        assert poll["status"] == "IN_PROGRESS" and poll["attempt"] == 0
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)  # not 600 s
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 3, err
    assert out.splitlines()[-1] == "KeyboardInterrupt"


# The daily incremental chain: export_chain against dynalite, s3rver and the export test server writing real
# exports of the table (chain_test_support: the base three days old, so that the next run has windows).

def chain_options(servers, chain_table, **extra):
    return {"endpoint_url": chain_table.server["url"], "dest_endpoint_url": servers["s3"], "check_interval": 0,
            **extra}


def test_export_chain_starts_advances_and_merges_into_a_snapshot_equal_to_a_fresh_scan(servers, chain_table):
    table, dest = chain_table.table, f"s3://{chain_table.bucket}/chains/orders"
    first = ddb2s3.export_chain(table, dest, export_time=chain_table.t0_datetime,
                                **chain_options(servers, chain_table))
    assert first["action"] == "started-base"
    assert first["state"] == f"{dest}/ddb2s3-chain.json"
    assert [x["ExportType"] for x in first["exports"]] == ["FULL_EXPORT"]
    assert first["exports"][0]["ExportStatus"] == "COMPLETED"
    assert first["exports"][0]["ExportTime"] == chain_table.t0
    assert first["incrementals"] == 0 and "merge" not in first
    assert chain_table.state_bytes("chains/orders") is not None

    chain_table.change()
    polls = []
    second = ddb2s3.export_chain(table, dest, merge=True, partitions=2, progress=polls.append,
                                 **chain_options(servers, chain_table))
    assert second["action"] == "advanced"
    assert second["incrementals"] == 3  # three days: three consecutive windows of under 24 hours
    exports = second["exports"]
    assert [x["ExportType"] for x in exports] == ["INCREMENTAL_EXPORT"] * 3
    windows = [x["IncrementalExportSpecification"] for x in exports]
    assert windows[0]["ExportFromTime"] == chain_table.t0
    assert all(a["ExportToTime"] == b["ExportFromTime"] for a, b in zip(windows, windows[1:]))
    assert all(w["ExportToTime"] - w["ExportFromTime"] <= DAY for w in windows)
    # progress: each export once as it starts (attempt 0), then at each DescribeExport
    assert [p["attempt"] for p in polls] == [0, 1] * 3
    assert [p["status"] for p in polls] == ["IN_PROGRESS", "COMPLETED"] * 3
    assert [p["export_arn"] for p in polls] == [x["ExportArn"] for x in exports for _ in range(2)]

    expected = chain_table.scanned()
    assert any("added" in i for i in expected) and not any("goes" in i for i in expected)
    assert second["merge"]["items"] == len(expected) == len(BASE_ITEMS)  # one added, one deleted
    assert second["snapshot"] == f"{dest}/snapshots/{snapshot_folder_name(second['through'])}"
    assert chain_table.snapshot(second["snapshot"]) == expected

    third = ddb2s3.export_chain(table, dest, merge=True, **chain_options(servers, chain_table))
    assert third["action"] == "up-to-date" and third["exports"] == []
    assert third["nextWindow"] > third["through"]
    assert third["snapshot"] == second["snapshot"]


def test_export_chain_failed_export_is_an_export_error_and_the_next_run_covers_its_window(servers, chain_table):
    table, dest = chain_table.table, f"s3://{chain_table.bucket}/chain"
    base = ddb2s3.export_chain(table, dest, export_time=chain_table.t0, **chain_options(servers, chain_table))
    recorded = chain_table.state_bytes("chain")
    chain_table.change()
    chain_table.server.fail(True)
    with pytest.raises(ddb2s3.ExportError) as e:
        ddb2s3.export_chain(table, dest, merge=True, **chain_options(servers, chain_table))
    assert e.value.description["ExportStatus"] == "FAILED"
    assert e.value.description["ExportType"] == "INCREMENTAL_EXPORT"
    assert e.value.code == "S3AccessDenied" and "Access Denied" in str(e.value)
    assert e.value.chain["action"] == "failed"
    assert e.value.chain["through"] == base["through"] and e.value.chain["incrementals"] == 0
    assert f"the chain stays at {base['through']}" in e.value.hint
    assert chain_table.state_bytes("chain") == recorded  # nothing recorded
    keys = [o["Key"] for o in chain_table.s3.list_objects_v2(Bucket=chain_table.bucket).get("Contents", [])]
    assert "chain/ddb2s3-chain.lock" not in keys and not any("/snapshots/" in k for k in keys)

    chain_table.server.fail(False)
    caught_up = ddb2s3.export_chain(table, dest, merge=True, **chain_options(servers, chain_table))
    assert caught_up["action"] == "advanced" and caught_up["incrementals"] == 3
    assert caught_up["exports"][0]["IncrementalExportSpecification"]["ExportFromTime"] == chain_table.t0
    assert chain_table.snapshot(caught_up["snapshot"]) == chain_table.scanned()


@pytest.mark.export_server(fail=True, polls_in_progress=0)
def test_export_chain_failed_base_is_an_export_error_and_starts_no_chain(export_server, make_bucket, servers, s3):
    bucket = make_bucket()
    with pytest.raises(ddb2s3.ExportError) as e:
        ddb2s3.export_chain("orders", f"s3://{bucket}/c", endpoint_url=export_server["url"],
                            dest_endpoint_url=servers["s3"], check_interval=0)
    assert e.value.description["ExportType"] == "FULL_EXPORT"
    assert e.value.chain["action"] == "failed" and "no chain was started" in e.value.hint
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # no state, the lock released


def test_export_chain_usage_errors_name_keywords_before_any_call():
    unreachable = {"endpoint_url": "http://127.0.0.1:9", "dest_endpoint_url": "http://127.0.0.1:9"}
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", incremental=True, **unreachable)
    assert "incremental" in str(e.value) and "--" not in str(e.value)
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", client_token="t", **unreachable)
    assert e.value.field == "client_token"
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", file_size="0", merge=True, **unreachable)
    assert e.value.field == "file_size"
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", wait=False, **unreachable)
    assert e.value.field == "wait"  # the chain waits for each export
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", chain=False, **unreachable)
    assert e.value.field == "chain"
    with pytest.raises(ddb2s3.UsageError) as e:
        ddb2s3.export_chain("orders", "s3://b/p", dest_aws_access_key_id="AKIDONLY", **unreachable)
    assert e.value.field == "dest_aws_secret_access_key" or e.value.field == "dest_aws_access_key_id"


CHAIN_CHILD = textwrap.dedent("""
    import sys, json, ddb2s3
    def progress(poll):
        print(json.dumps(poll), flush=True)
    try:
        ddb2s3.export_chain("orders", sys.argv[1], check_interval=600, endpoint_url=sys.argv[2],
                            dest_endpoint_url=sys.argv[3], progress=progress)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(3)
    print("finished", flush=True)
""")


@pytest.mark.export_server(polls_in_progress=50)
def test_ctrl_c_while_a_chain_export_waits_raises_at_once_and_releases_the_chain(export_server, make_bucket,
                                                                                 servers, s3, build_dir):
    bucket = make_bucket()
    env = dict(os.environ, PYTHONPATH=str(build_dir / "python"))
    child = subprocess.Popen([sys.executable, "-c", CHAIN_CHILD, f"s3://{bucket}/c", export_server["url"],
                              servers["s3"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        poll = json.loads(child.stdout.readline())  # the base export started; its first poll is 600 s away
        assert poll["status"] == "IN_PROGRESS" and poll["attempt"] == 0
        assert s3.head_object(Bucket=bucket, Key="c/ddb2s3-chain.lock")  # the run holds the chain
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)  # not 600 s
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 3, err
    assert out.splitlines()[-1] == "KeyboardInterrupt"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # nothing recorded, the lock released


def test_export_chain_held_by_another_run_is_chain_busy_naming_it(export_server, make_bucket, servers, s3):
    bucket = make_bucket()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    lease = {"runId": "other-run", "host": "elsewhere", "pid": 4242,
             "acquired": now.isoformat().replace("+00:00", "Z"),
             "expires": (now + datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")}
    s3.put_object(Bucket=bucket, Key="c/ddb2s3-chain.lock", Body=json.dumps(lease).encode())
    with pytest.raises(ddb2s3.AwsError) as e:
        ddb2s3.export_chain("orders", f"s3://{bucket}/c", endpoint_url=export_server["url"],
                            dest_endpoint_url=servers["s3"], check_interval=0)
    assert e.value.code == "ChainBusy"
    assert "other-run" in str(e.value) and "elsewhere" in str(e.value)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["c/ddb2s3-chain.lock"]  # the other run's lock untouched, no export, no state
