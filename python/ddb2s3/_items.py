"""An item's dynamodb-json line ({"Item": {...}}, as DynamoDB's export writes it) as the dict boto3's
TypeDeserializer gives for it: numbers as decimal.Decimal with every digit (boto3's DYNAMODB_CONTEXT), SS/NS/BS
as set, B as boto3.dynamodb.types.Binary, NULL as None, BOOL as bool, L as list, M as dict."""
import base64
import json
from decimal import Clamped, Context, Inexact, Overflow, Rounded, Underflow

try:
    from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary
except ImportError:  # without boto3: the same context, and a Binary that behaves as boto3's
    DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])

    class Binary:
        """Bytes of a DynamoDB binary value (boto3.dynamodb.types.Binary's interface)."""

        def __init__(self, value):
            if not isinstance(value, (bytes, bytearray)):
                raise TypeError("Value must be of the following types: bytes, bytearray")
            self.value = value

        def __eq__(self, other):
            return self.value == (other.value if isinstance(other, Binary) else other)

        def __ne__(self, other):
            return not self.__eq__(other)

        def __repr__(self):
            return f"Binary({self.value!r})"

        def __str__(self):
            return self.value

        def __bytes__(self):
            return self.value

        def __hash__(self):
            return hash(self.value)


_number = DYNAMODB_CONTEXT.create_decimal
_b64 = base64.b64decode


def _value(typed):
    (kind, v), = typed.items()
    if kind == "S":
        return v
    if kind == "N":
        return _number(v)
    if kind == "M":
        return {k: _value(x) for k, x in v.items()}
    if kind == "L":
        return [_value(x) for x in v]
    if kind == "BOOL":
        return v
    if kind == "NULL":
        return None
    if kind == "B":
        return Binary(_b64(v))
    if kind == "SS":
        return set(v)
    if kind == "NS":
        return {_number(x) for x in v}
    if kind == "BS":
        return {Binary(_b64(x)) for x in v}
    raise TypeError(f"unknown DynamoDB type {kind!r}")


def item_from_line(line):
    """The TypeDeserializer's dict of one dynamodb-json line (bytes or str)."""
    return {k: _value(v) for k, v in json.loads(line)["Item"].items()}
