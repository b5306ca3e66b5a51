"""schemathesis hooks for scripts/api_check.py: how to send kefu's file bodies.

The knowledge-base and account imports take CSV and JSON Lines as text and spreadsheets as
bytes; schemathesis ships serializers for text/plain and application/octet-stream only.
"""

import schemathesis

schemathesis.serializer.alias(["text/csv", "application/x-ndjson"], "text/plain")
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)
