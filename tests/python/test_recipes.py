"""The scheduler recipes of examples/ run as their schedulers would run them.

examples/kubernetes (an Indexed Job and its finalize Job) and examples/aws-batch (an array job definition,
its submit request, and the finalize job's) are parsed as they are; only their documented placeholders
(TABLE_NAME, BUCKET_NAME) are replaced, as a user would. Each index's exact command line (Kubernetes:
command + args with $(VAR) expanded from the container's env; Batch: the definition's command with its
Ref:: parameters from the definition's defaults and the submit's values) runs with the env the file sets
plus the scheduler's index variable (JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX), all indexes at once,
then the finalize command. What the platform would give (credentials, and here the endpoints of the local
dynalite and s3rver through AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3) comes from the environment,
as a role and a VPC endpoint would. The result must hold exactly the lines of a single-process copy of the
same table, and pass `ddb2s3 verify --deep`.

examples/kubernetes/ddb2s3-chain-cronjob.yaml (a daily CronJob running the incremental chain) runs the same
way, its DynamoDB endpoint being the export test server (which writes real exports into s3rver from
snapshots of the dynalite table that the test records): after a base three days old and changes, its exact
command line makes three incremental exports and a merged snapshot that must equal a fresh scan."""
import collections
import gzip
import json
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
K8S_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def with_placeholders(path, table, bucket):
    """The file's text with the placeholders a user replaces; the other ones (IMAGE...) do not run here."""
    return path.read_text().replace("TABLE_NAME", table).replace("BUCKET_NAME", bucket)


def k8s_expand(text, env):
    """$(VAR) as Kubernetes expands it in command, args and env values: a variable defined earlier in the
    container's env; $$ is a literal $; a reference to an unknown variable is left as written."""
    def one(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return K8S_REFERENCE.sub(one, text)


def k8s_container(path, table, bucket, kind="Job"):
    """(object, argv, env) of the only container of the Job (or the CronJob's job template) in path, as the
    kubelet would start it."""
    docs = [d for d in yaml.safe_load_all(with_placeholders(path, table, bucket)) if d]
    found = [d for d in docs if d.get("kind") == kind]
    assert len(found) == 1, f"{path.name}: one {kind} expected"
    job = found[0]
    assert job["apiVersion"] == "batch/v1"
    job_spec = job["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else job["spec"]
    containers = job_spec["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{path.name}: one container expected"
    c = containers[0]
    env = {}
    for e in c.get("env", []):
        assert "value" in e, f"{path.name}: env {e['name']} has no value (valueFrom is not run here)"
        env[e["name"]] = k8s_expand(str(e["value"]), env)
    argv = [k8s_expand(str(a), env) for a in c.get("command", []) + c.get("args", [])]
    return job, argv, env


def batch_command(definition, submit):
    """(argv, env) of a Batch job: the definition's command with each Ref::NAME element replaced by the
    submit's parameter NAME, else the definition's default (SubmitJob's parameters win), and its env."""
    assert submit["jobDefinition"] == definition["jobDefinitionName"]
    params = {**definition.get("parameters", {}), **submit.get("parameters", {})}
    props = definition["containerProperties"]
    argv = []
    for word in props["command"]:
        if word.startswith("Ref::"):
            assert word[5:] in params, f"{word} has no value in the definition or the submit"
            word = params[word[5:]]
        argv.append(word)
    env = {e["name"]: e["value"] for e in props.get("environment", [])}
    for e in submit.get("containerOverrides", {}).get("environment", []):
        env[e["name"]] = e["value"]
    return argv, env


def flag_value(argv, flag):
    assert argv.count(flag) == 1, f"{flag} once in {argv}"
    return argv[argv.index(flag) + 1]


@pytest.fixture
def on_path(cli, tmp_path):
    """A PATH whose first directory holds `ddb2s3` (this build's), as the recipes' images have it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ddb2s3").symlink_to(cli)
    return f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"


@pytest.fixture
def platform_env(servers, on_path):
    """What the platform gives every task besides the file's env: credentials (the conftest's), endpoints."""
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL_DYNAMODB=servers["dynamodb"], AWS_ENDPOINT_URL_S3=servers["s3"], PATH=on_path)
    return env


@pytest.fixture
def table_and_bucket(make_table, make_bucket):
    items = []
    for i in range(240):
        items.append({
            "pk": f"order-{i:04d}",
            "amount": Decimal(f"{i % 10}1234567890123456789.123456789012345678"),  # 38 digits
            "tags": {f"t{i % 3}", "all"},
            "blob": bytes([i % 256, 0, 255]),
            "detail": {"lines": [i, "two", None, True], "note": "é\u2603\n\"q\"" * (i % 4)},
        })
    return make_table(items=items), make_bucket(), len(items)


def run_all(tasks, timeout=300):
    """Starts every (argv, env) at once, as the scheduler's pods or child jobs; their (code, stdout, stderr)."""
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv, env in tasks]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        results.append((p.returncode, out, err))
    return results


def run_lines(s3, bucket, prefix, run_id):
    """Every line of a run's gzip data files, counted."""
    lines = collections.Counter()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{run_id}/data/")
    for page in pages:
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            lines.update(gzip.decompress(body).decode().splitlines())
    return lines


def check_against_single_copy(cli, s3, platform_env, table, bucket, dest, run_id, item_count, finalized):
    """The shared run holds exactly the lines of one process's copy of the table, and verifies deeply."""
    summary = json.loads(finalized)
    assert summary["runId"] == run_id
    assert summary["itemCount"] == item_count
    prefix = dest.removeprefix(f"s3://{bucket}/")
    single = subprocess.run([str(cli), "scan", table, f"s3://{bucket}/single", "--run-id", "single", "--json"],
                            env=platform_env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    assert json.loads(single.stdout)["itemCount"] == item_count
    shared = run_lines(s3, bucket, prefix, run_id)
    assert sum(shared.values()) == item_count
    assert shared == run_lines(s3, bucket, "single", "single")
    verify = subprocess.run([str(cli), "verify", dest, "--run-id", run_id, "--deep", "--json"],
                            env=platform_env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["ok"] is True


def check_segments(results, item_count):
    seen = 0
    for index, (code, out, err) in enumerate(results):
        assert code == 0, f"index {index}: {err}"
        summary = json.loads(out)
        assert summary["segment"] == index, out  # --segment auto took the scheduler's index
        seen += summary["itemCount"]
    assert seen == item_count, "the segments together hold every item once"


def test_kubernetes_indexed_job_then_finalize_job(cli, s3, platform_env, table_and_bucket):
    table, bucket, item_count = table_and_bucket
    job, argv, env = k8s_container(EXAMPLES / "kubernetes" / "ddb2s3-job.yaml", table, bucket)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    total = spec["completions"]
    assert int(flag_value(argv, "--total-segments")) == total, "completions = --total-segments"
    assert flag_value(argv, "--segment") == "auto"
    assert spec["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert argv[:2] == ["ddb2s3", "scan"] and argv[2] == table
    dest, run_id = argv[3], flag_value(argv, "--run-id")
    assert dest == f"s3://{bucket}/dynamodb/{table}"

    tasks = [(argv, {**platform_env, **env, "JOB_COMPLETION_INDEX": str(i)}) for i in range(total)]
    check_segments(run_all(tasks), item_count)

    _, fin_argv, fin_env = k8s_container(EXAMPLES / "kubernetes" / "ddb2s3-finalize-job.yaml", table, bucket)
    assert fin_argv[:3] == ["ddb2s3", "finalize", dest], "finalize names the copy Job's destination"
    assert flag_value(fin_argv, "--run-id") == run_id, "both Jobs use the same RUN_ID"
    [(code, out, err)] = run_all([(fin_argv, {**platform_env, **fin_env})])
    assert code == 0, err
    check_against_single_copy(cli, s3, platform_env, table, bucket, dest, run_id, item_count, out)


def test_aws_batch_array_job_then_dependent_finalize_job(cli, s3, platform_env, table_and_bucket):
    table, bucket, item_count = table_and_bucket
    batch = EXAMPLES / "aws-batch"
    load = lambda name: json.loads(with_placeholders(batch / name, table, bucket))  # noqa: E731
    definition, submit = load("job-definition.json"), load("submit-job.json")
    argv, env = batch_command(definition, submit)
    total = submit["arrayProperties"]["size"]
    assert 2 <= total <= 10000, "Batch's array sizes"
    assert int(flag_value(argv, "--total-segments")) == total, "arrayProperties.size = --total-segments"
    assert flag_value(argv, "--segment") == "auto"
    assert argv[:3] == ["ddb2s3", "scan", table]
    dest, run_id = argv[3], flag_value(argv, "--run-id")
    assert dest == f"s3://{bucket}/dynamodb/{table}"

    tasks = [(argv, {**platform_env, **env, "AWS_BATCH_JOB_ARRAY_INDEX": str(i)}) for i in range(total)]
    check_segments(run_all(tasks), item_count)

    fin_definition, fin_submit = load("finalize-job-definition.json"), load("submit-finalize-job.json")
    assert fin_submit["dependsOn"], "the finalize job waits for the array job"
    fin_argv, fin_env = batch_command(fin_definition, fin_submit)
    assert fin_argv[:3] == ["ddb2s3", "finalize", dest]
    assert flag_value(fin_argv, "--run-id") == run_id, "both submits use the same runId"
    [(code, out, err)] = run_all([(fin_argv, {**platform_env, **fin_env})])
    assert code == 0, err
    check_against_single_copy(cli, s3, platform_env, table, bucket, dest, run_id, item_count, out)


def test_kubernetes_chain_cronjob_starts_advances_and_merges_the_chain(cli, platform_env, chain_table):
    """The CronJob's command, daily: after a base (its first run, as of three days ago), the table changes and
    the next run exports the three days in three windows and merges them into a snapshot equal to a fresh
    scan; run again at once, it has nothing to do."""
    table, bucket = chain_table.table, chain_table.bucket
    cronjob, argv, env = k8s_container(EXAMPLES / "kubernetes" / "ddb2s3-chain-cronjob.yaml", table, bucket,
                                       kind="CronJob")
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    minute, hour, *every_day = spec["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"], "once a day"
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    dest = f"s3://{bucket}/chains/{table}"
    assert argv[:4] == ["ddb2s3", "export", table, dest]
    assert {"--chain", "--merge", "--json"} <= set(argv)
    # What the platform gives: DynamoDB's endpoint here is the stand-in of its export service.
    task_env = {**platform_env, **env, "AWS_ENDPOINT_URL_DYNAMODB": chain_table.server["url"]}

    # The first run, as of three days ago (--export-time, as a user basing the chain then; polled at once).
    [(code, out, err)] = run_all([(argv + ["--export-time", str(chain_table.t0), "--check-interval", "0"],
                                   task_env)])
    assert code == 0, err
    first = json.loads(out)
    assert first["action"] == "started-base" and first["state"] == f"{dest}/ddb2s3-chain.json"

    chain_table.change()
    [(code, out, err)] = run_all([(argv, task_env)])  # the exact command: three exports, each polled after 30 s
    assert code == 0, err
    second = json.loads(out)
    assert second["action"] == "advanced" and second["incrementals"] == 3
    assert [x["ExportType"] for x in second["exports"]] == ["INCREMENTAL_EXPORT"] * 3
    assert second["snapshot"].startswith(f"{dest}/snapshots/")
    assert chain_table.snapshot(second["snapshot"]) == chain_table.scanned()
    assert second["merge"]["items"] == len(chain_table.scanned())

    [(code, out, err)] = run_all([(argv, task_env)])
    assert code == 0, err
    third = json.loads(out)
    assert third["action"] == "up-to-date" and third["snapshot"] == second["snapshot"]
