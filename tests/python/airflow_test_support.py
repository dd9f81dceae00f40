"""What the Airflow operator's tests share: the Airflow stand-in on sys.path, Airflow connections in the
environment, a recording pass-through in front of dynalite, and reading a run's output back from S3."""
import gzip
import http.client
import http.server
import json
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

STANDIN = Path(__file__).resolve().parent / "airflow_standin"
if str(STANDIN) not in sys.path:
    sys.path.insert(0, str(STANDIN))

SOURCE_DIR = Path(__file__).resolve().parents[2]
DAG_FILE = SOURCE_DIR / "examples" / "airflow" / "ddb2s3_dag.py"
CHAIN_DAG_FILE = SOURCE_DIR / "examples" / "airflow" / "ddb2s3_chain_dag.py"


def set_connection(monkeypatch, conn_id, login=None, password=None, **extra):
    """An Airflow connection of type aws, as AIRFLOW_CONN_<ID> (JSON form) holds it."""
    fields = {"conn_type": "aws", "extra": extra}
    if login is not None:
        fields["login"] = login
    if password is not None:
        fields["password"] = password
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def render_and_execute(op, context):
    """What Airflow does with a task instance: render the templated fields, then execute."""
    op.render_template_fields(context)
    return op.execute(context)


class SigningRecorder:
    """A loopback HTTP pass-through to a server (dynalite) that records, for each request, the access key
    id, region and service of its SigV4 signature and its session token: which credentials reached the
    DynamoDB side. `with SigningRecorder(url) as r:` r.url to use, r.requests the records."""

    _CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

    def __init__(self, target_url):
        target = urlsplit(target_url)
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                m = recorder._CREDENTIAL.search(self.headers.get("Authorization", ""))
                recorder.requests.append({
                    "target": self.headers.get("X-Amz-Target", ""),
                    "key_id": m.group(1) if m else None,
                    "region": m.group(2) if m else None,
                    "service": m.group(3) if m else None,
                    "token": self.headers.get("X-Amz-Security-Token"),
                })
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    upstream.putrequest("POST", self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() != "content-length":
                            upstream.putheader(name, value)
                    upstream.putheader("Content-Length", str(len(body)))
                    upstream.endheaders(body)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def seen(self, field):
        return {r[field] for r in self.requests}


def manifest_files(s3, bucket, prefix, run_id):
    """The lines of PREFIX/RUN_ID/manifest-files.json, as dicts, in order."""
    folder = f"{prefix.strip('/')}/{run_id}" if prefix.strip("/") else run_id
    key = f"{folder}/manifest-files.json"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line]


def data_bytes(s3, bucket, key):
    """A data file's bytes, decompressed (gzip) when its name says so."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def run_lines(s3, bucket, prefix, run_id):
    """Every line of a finished run's data files (as its manifest lists them), sorted."""
    lines = []
    for f in manifest_files(s3, bucket, prefix, run_id):
        lines += data_bytes(s3, bucket, f["dataFileS3Key"]).splitlines()
    return sorted(lines)
