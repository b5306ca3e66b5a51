#!/usr/bin/env python3
"""Checks kefu's OpenAPI document against the running API with schemathesis (docs/DATA.md).

Starts `kefu demo --seed-history` (SQLite, a week of conversations) on a free port, signs in,
creates an API key, and runs schemathesis with every check and every phase, stateful included:

1. the data API (`/api/v1`) with the API key;
2. every operation with an admin's session and its CSRF token, except the few that end the
   session they run on (they would sign the rest of the run out);
3. those few, each with a session of its own.

Exits non-zero on any failure. Usage: scripts/api_check.py [path/to/kefu] [--quick]
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "scripts", "schemathesis.toml")

# Operations that end the session they are called with (sign out, change one's own password,
# force one's own log-out, end a session, disable an account): checked last, each with its own
# session, so they do not sign the main run out. By operationId.
SESSION_ENDING = ["logout", "change_my_password", "end_my_session", "force_logout_agent", "update_agent"]
# Configs with credentials in them, removed at the end.
TEMP_FILES = []

# The operations whose answers link to those, run with them for the stateful phase.
LINKED_FROM = {
    "end_my_session": ["list_my_sessions"],
    "force_logout_agent": ["create_agent"],
    "update_agent": ["create_agent"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"kefu demo exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("kefu demo did not become ready")


class Session:
    """A signed-in workbench session: its cookie and CSRF token."""

    def __init__(self, base, username, password):
        self.base, self.jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        me = self.call("POST", "/api/auth/login", {"username": username, "password": password}, csrf=False)
        self.csrf = me["csrf_token"]
        self.cookie = next(f"{c.name}={c.value}" for c in self.jar if c.name == "kefu_session")

    def call(self, method, path, body=None, csrf=True):
        req = urllib.request.Request(self.base + path, method=method)
        req.add_header("Content-Type", "application/json")
        if csrf:
            req.add_header("X-CSRF-Token", self.csrf)
        data = json.dumps(body).encode() if body is not None else None
        with self.opener.open(req, data=data, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def auth(self):
        """The security schemes of the document this session fills."""
        value = self.cookie.split("=", 1)[1]
        return {"session": {"api_key": value}, "csrf": {"api_key": self.csrf}}


def config_with(auth):
    """scripts/schemathesis.toml plus the credentials, per security scheme of the document, so
    schemathesis itself can leave them out to check that they are required."""
    hooks = os.path.join(ROOT, "scripts", "schemathesis_hooks.py")
    lines = [f"hooks = {json.dumps(hooks)}", open(CONFIG, encoding="utf-8").read()]
    for scheme, values in auth.items():
        lines.append(f"\n[auth.openapi.{scheme}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    f = tempfile.NamedTemporaryFile("w", prefix="schemathesis-", suffix=".toml", delete=False)
    f.write("\n".join(lines) + "\n")
    f.close()
    TEMP_FILES.append(f.name)
    return f.name


def schemathesis(base, name, auth, args, quick):
    """One schemathesis run; returns its exit code."""
    budget = ["--max-examples", "10"] if quick else []
    report = os.path.join(os.environ.get("KEFU_API_CHECK_REPORTS", tempfile.gettempdir()), f"schemathesis-{name}")
    cmd = [
        "schemathesis", "--config-file", config_with(auth), "run", f"{base}/api/openapi.json",
        "--checks", "all", "--report", "junit", "--report-junit-path", f"{report}.xml", *budget, *args,
    ]
    print(f"\n=== schemathesis: {name}", flush=True)
    return subprocess.call(cmd)


def client_example(base, admin):
    """docs/examples/change-feed-client.sh, with a key of its own (the runs above may have
    revoked any key they could find)."""
    print("\n=== the typed client example (docs/examples/change-feed-client.sh)", flush=True)
    token = admin.call("POST", "/api/admin/api-keys", {"name": "client example", "scopes": ["changes:read"]})["token"]
    env = dict(os.environ, KEFU_URL=base, KEFU_API_KEY=token)
    script = os.path.join(ROOT, "docs", "examples", "change-feed-client.sh")
    out = subprocess.run(["bash", script], env=env, capture_output=True, text=True)
    print(out.stdout, out.stderr, sep="", end="")
    ok = out.returncode == 0 and " events up to cursor " in out.stdout and "message.created" in out.stdout
    return 0 if ok else 1


def main():
    argv = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    binary = argv[0] if argv else os.path.join(ROOT, "target", "debug", "kefu")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="kefu-api-check-", suffix=".log", delete=False)
    env = dict(os.environ, KEFU_LOG="warn", NO_COLOR="1")
    sandbox = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([binary, "demo", "--seed-history", "--bind", f"127.0.0.1:{port}",
                             "--sandbox-bind", sandbox.removeprefix("http://")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_ready(base, proc)
        # A few customers waiting for an agent, so conversation operations have live ones to act on.
        for user in ("o_check_1", "o_check_2", "o_check_3"):
            subprocess.run([binary, "sim", "say", "--sim", sandbox, "--user", user, "转人工"],
                           check=True, stdout=subprocess.DEVNULL, env=env)
        admin = Session(base, "admin", "admin123")
        # An admin and a session of its own for each session-ending operation, signed in before
        # the fuzzing: its failed logins lock this address out of signing in for a while.
        own_sessions = {}
        for op in SESSION_ENDING:
            username, password = f"check_{op}"[:32], secrets.token_hex(12)
            admin.call("POST", "/api/agents", {"username": username, "password": password,
                                               "display_name": op[:32], "role": "admin"})
            own_sessions[op] = Session(base, username, password)
        scopes = ["conversations:read", "messages:read", "customers:read", "changes:read", "export"]
        token = admin.call("POST", "/api/admin/api-keys", {"name": "schemathesis", "scopes": scopes})["token"]
        failed = 0
        key = {"api_key": {"bearer": token}}
        failed |= schemathesis(base, "data-api-key", key, ["--include-path-regex", "^/api/v1/"], quick)
        excluded = [a for op in SESSION_ENDING for a in ("--exclude-operation-id", op)]
        failed |= schemathesis(base, "session", admin.auth(), excluded, quick)
        failed |= client_example(base, admin)
        for op in SESSION_ENDING:
            own = own_sessions[op]
            feeders = LINKED_FROM.get(op, [])
            include = [a for o in (op, *feeders) for a in ("--include-operation-id", o)]
            # Without an operation that links to it there is no call sequence to test statefully.
            phases = [] if feeders else ["--phases", "examples,coverage,fuzzing"]
            failed |= schemathesis(base, f"session-{op}", own.auth(), include + phases, quick)
        if proc.poll() is not None:
            failed = 1
            print("kefu exited during the run", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for name in TEMP_FILES:
            os.unlink(name)
    if failed:
        print(f"schemathesis found failures; kefu's log: {log.name}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
