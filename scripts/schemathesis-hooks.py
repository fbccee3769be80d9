"""Schemathesis hooks for scripts/schemathesis (loaded via SCHEMATHESIS_HOOKS).

POST /predict/batch also reads application/x-ndjson, which Schemathesis
cannot serialize by itself. openapi.yaml describes that body as a string
(one PredictRequest per line), so a generated string goes on the wire as
it is, in UTF-8; anything else (negative testing breaks the schema on
purpose) goes as its JSON text.

On CPython 3.11, ast.parse can fail with "SystemError: AST constructor
recursion depth mismatch" when Hypothesis describes a filter's lambda (for
a repr only), which aborts the operation under test; the guard below
falls back to a plain description there. scripts/schemathesis prefers
Python 3.12 or later anyway.
"""

import json
import sys

import schemathesis

if sys.version_info < (3, 12):
    from hypothesis.internal import lambda_sources

    _describe = lambda_sources.lambda_description

    def _lambda_description(f):
        try:
            return _describe(f)
        except SystemError:
            return "lambda: <source not shown>"

    lambda_sources.lambda_description = _lambda_description


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")
