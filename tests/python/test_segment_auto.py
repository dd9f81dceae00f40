"""segment="auto" in the Python module: the same resolution as the CLI's --segment auto (the library's
segment_from_scheduler), from the process environment, against dynalite and s3rver."""
import pytest

import ddb2s3

VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID")


@pytest.fixture(autouse=True)
def no_scheduler(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("variable", VARIABLES)
def test_each_index_runs_its_segment_then_finalize(variable, monkeypatch, servers, make_table, make_bucket):
    table = make_table(items=[{"pk": f"k{i}", "n": i} for i in range(40)])
    dest = f"s3://{make_bucket()}/auto"
    sides = {"source_endpoint_url": servers["dynamodb"], "dest_endpoint_url": servers["s3"]}
    items = 0
    for index in range(3):
        monkeypatch.setenv(variable, str(index))
        assert ddb2s3.segment_from_environment(3) == index
        summary = ddb2s3.scan(table, dest, segment="auto", total_segments=3, run_id="py-auto", **sides)
        assert summary["segment"] == index
        assert summary["segmentManifestKey"] == f"auto/py-auto/segments/{index}.json"
        items += summary["itemCount"]
    assert items == 40
    done = ddb2s3.finalize(dest, "py-auto", dest_endpoint_url=servers["s3"])
    assert done["itemCount"] == 40
    assert done["totalSegments"] == 3


def test_errors_name_the_variables_in_keyword_words(monkeypatch):
    closed = {"source_endpoint_url": "http://127.0.0.1:9", "dest_endpoint_url": "http://127.0.0.1:9"}
    with pytest.raises(ddb2s3.UsageError) as none:
        ddb2s3.scan("t", "s3://some-bucket/p", segment="auto", total_segments=3, run_id="r", **closed)
    assert none.value.field == "segment"
    for name in VARIABLES:
        assert name in str(none.value)
    with pytest.raises(ddb2s3.UsageError):
        ddb2s3.segment_from_environment(3)

    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "3")
    with pytest.raises(ddb2s3.UsageError) as out:
        ddb2s3.scan("t", "s3://some-bucket/p", segment="auto", total_segments=3, run_id="r", **closed)
    assert "AWS_BATCH_JOB_ARRAY_INDEX='3' is out of range: segment must be from 0 to total_segments - 1 (2)" \
        in str(out.value)
    assert "--" not in str(out.value), "keyword words, not flags"
