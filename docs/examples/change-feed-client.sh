#!/usr/bin/env bash
# A typed client for kefu's API, generated from its OpenAPI document with openapi-python-client,
# used to follow the change feed the way a CRM does: page with the cursor, deduplicate on `id`,
# keep the cursor. See docs/DATA.md. CI runs this against the demo (scripts/api_check.py).
#
#   KEFU_URL=http://127.0.0.1:8080 KEFU_API_KEY=kf_… docs/examples/change-feed-client.sh
set -euo pipefail
: "${KEFU_URL:?the kefu base URL, e.g. http://127.0.0.1:8080}"
: "${KEFU_API_KEY:?an API key with the changes:read scope}"
work="${KEFU_CLIENT_DIR:-$(mktemp -d)}"

python3 -m pip show openapi-python-client >/dev/null 2>&1 || python3 -m pip install --quiet "openapi-python-client==0.29.1"
curl -fsS "$KEFU_URL/api/openapi.json" -o "$work/openapi.json"
# The generator skips the few operations whose bodies are files (imports, images); every JSON
# operation, the data API included, becomes a typed function.
if ! openapi-python-client generate --path "$work/openapi.json" --output-path "$work/client" --overwrite \
  >"$work/generate.log" 2>&1; then
  cat "$work/generate.log" >&2
  exit 1
fi

PYTHONPATH="$work/client" python3 - <<'EOF'
import os

from kefu_api_client import AuthenticatedClient
from kefu_api_client.api.data import list_changes
from kefu_api_client.models import ChangePage

client = AuthenticatedClient(base_url=os.environ["KEFU_URL"], token=os.environ["KEFU_API_KEY"])
cursor, seen, kinds = 0, set(), {}
while True:
    page = list_changes.sync(client=client, after=cursor, limit=200)
    assert isinstance(page, ChangePage), f"the change feed answered {page!r}"
    for event in page.items:
        if event.id in seen:  # delivery is at least once
            continue
        seen.add(event.id)
        kinds[event.type_.value] = kinds.get(event.type_.value, 0) + 1
    if not page.items:
        break
    cursor = page.next_after  # save this only after the page is processed
print(f"{len(seen)} events up to cursor {cursor}:")
for kind, n in sorted(kinds.items()):
    print(f"  {kind:28} {n}")
EOF
