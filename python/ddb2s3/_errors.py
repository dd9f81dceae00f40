"""ddb2s3's exceptions. The native module builds them (from_native); the calls of ddb2s3 then put the
command's flags in keyword words (--file-size -> file_size) with in_keyword_words."""
import re

KINDS = ("usage", "client", "throttling", "transient", "cancelled", "io", "internal")


class Error(Exception):
    """A failure of a ddb2s3 call. str(e) is the one line the ddb2s3 program prints for it.

    kind: "usage", "client", "throttling", "transient", "cancelled", "io" or "internal"; code: the AWS error
    code (ResourceNotFoundException) or ours (UsageError); message: the AWS message or ours; http_status
    (0 without an HTTP answer), request_id, operation (Scan, PutObject...), resource (table, s3://bucket/key),
    hint (what to do), field (the keyword argument at fault, when one is).
    """

    def __init__(self, message="", *, kind="internal", code="", http_status=0, request_id="", operation="",
                 resource="", hint="", field="", text=None):
        super().__init__(text if text is not None else message)
        self.kind = kind
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        self.operation = operation
        self.resource = resource
        self.hint = hint
        self.field = field

    def __str__(self):
        return self.args[0] if self.args else ""


class UsageError(Error):
    """Bad arguments: raised before any AWS call; field and the message name the keyword argument."""


class AwsError(Error):
    """An AWS refusal or failure (code, message, http_status, request_id as AWS sent them)."""


class ExportError(Error):
    """A point-in-time export that FAILED, or is still IN_PROGRESS after max_attempts polls.

    description: the latest DescribeExport ExportDescription (dict), as export() would have returned it.
    chain: for an export of export_chain(), what the run returns (action "failed", the exports it made, the
    state it leaves: through, incrementals, snapshot); {} otherwise."""

    def __init__(self, message="", *, description=None, chain=None, **kwargs):
        super().__init__(message, **kwargs)
        self.description = description or {}
        self.chain = chain or {}


def from_native(info):
    """The exception for an error of the native module (a dict of the C++ Error's fields)."""
    info = dict(info)
    kind = info.get("kind", "internal")
    if "description" in info:
        cls = ExportError
    elif kind == "usage":
        cls = UsageError
    elif kind in ("client", "throttling", "transient"):
        cls = AwsError
    else:
        cls = Error
    message = info.pop("message", "")
    return cls(message, **info)


def usage_error(message, field=""):
    return UsageError(message, kind="usage", code="UsageError", field=field, text="UsageError: " + message)


def in_keyword_words(error, names):
    """Rewrites error's text, message, hint and field in place: each name of `names` (a flag such as
    --file-size, or a setting such as source.access_key_id) becomes its keyword argument (file_size)."""
    if not names:
        return error
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                         + r")(?![\w-])")

    def rewrite(s):
        return pattern.sub(lambda m: names[m.group(1)], s) if s else s

    if error.field in names:
        error.field = names[error.field]
    elif not error.field and error.kind == "usage":  # a refusal of the parser: the first flag it names
        found = pattern.search(error.message or "")
        if found:
            error.field = names[found.group(1)]
    if error.args:
        error.args = (rewrite(error.args[0]),) + tuple(error.args[1:])
    error.message = rewrite(error.message)
    error.hint = rewrite(error.hint)
    return error
