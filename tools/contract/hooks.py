"""schemathesis hooks for scripts/contract.

1. `/stream-sra-audit` answers newline-delimited JSON: each line is read, and the list checked against the document's
   schema (an array of ChainedAuditEntry).
2. Three rules are beyond what JSON Schema can say, and the document says them in words instead: a page token or a
   changes token is only valid as the server issued it (for the same request); a timeframe starts before it ends (and
   an open one does not start in the future); a gateway reports nothing that happens more than 5 minutes from now.
   Generated bodies keep to these rules, so that a refusal of them is not counted as a refusal of valid data; the
   stateful phase sends real tokens through the document's links.
"""

import json
from datetime import date, datetime, timedelta, timezone

import schemathesis


@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx, response):
    return [json.loads(line) for line in response.content.decode("utf-8").splitlines() if line.strip()]


def _time(value):
    """The time an RFC 3339 string stands for, or None when it is not one Python reads (left as generated)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
        if len(value) < 20 or value[10] not in "Tt":
            return None
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        return parsed if parsed.tzinfo else None
    except ValueError:
        return None


def _keep_window(body):
    now = datetime.now(timezone.utc)
    start, end = _time(body.get("from")), _time(body.get("to"))
    if start is not None and start > (end or now):
        del body["from"]


def _keep_reported_time(report):
    at = _time(report.get("at")) if isinstance(report, dict) else None
    if at is not None and at > datetime.now(timezone.utc) + timedelta(minutes=4):
        report["at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@schemathesis.hook
def map_case(ctx, case):
    """Every phase's cases (the coverage phase's too, which body hooks do not see). Only values the schema allows are
    changed, so a case made to break the schema still breaks it."""
    body = case.body
    if not isinstance(body, dict) or ctx.operation is None:
        return case
    path = ctx.operation.path
    if path == "/list-sra-sessions":
        tokens = [t for t in ("pagination-token", "changes-since") if isinstance(body.get(t), str)]
        # Both at once, neither empty, breaks the schema (a page or the changes, not both): left as it is.
        both = len(tokens) == 2 and all(body[t] for t in tokens)
        if not both and all(len(body[t]) <= 4096 for t in tokens):
            for token in tokens:
                del body[token]
        _keep_window(body)
    elif path == "/list-sra-audit":
        _keep_window(body)
    elif path == "/gateway/session-update":
        _keep_reported_time(body)
    elif path == "/gateway/session-updates":
        updates = body.get("updates")
        for report in updates if isinstance(updates, list) else []:
            _keep_reported_time(report)
    return case
