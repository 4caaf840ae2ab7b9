"""plexusd as ImapFlow sees it: an IMAP client written independently of ours,
with its own response parser (Node.js, from the npm registry; `make test`
installs it with `npm ci`), runs the commands mail clients use, over IMAPS.
The script (node/conformance.mjs) checks every answer and fails on anything
ImapFlow logs as a warning or an error, such as a response it cannot parse."""
import os
import subprocess
from pathlib import Path

from conftest import DOMAIN

NODE_DIR = Path(__file__).resolve().parent / "node"
MARTIN = f"dr.martin@{DOMAIN}"


def test_imapflow_runs_the_usual_client_commands(plexus):
    assert (NODE_DIR / "node_modules" / "imapflow").is_dir(), "run `make test` (npm ci in tests/integration/node)"
    env = dict(os.environ, PLEXUS_IMAPS_PORT=str(plexus.ports["imaps"]), PLEXUS_CA=str(plexus.ca),
               PLEXUS_HOSTNAME=f"mail.{DOMAIN}", PLEXUS_DOMAIN=DOMAIN,
               PLEXUS_USER=MARTIN, PLEXUS_PASSWORD="martin-password")
    r = subprocess.run(["node", str(NODE_DIR / "conformance.mjs")], env=env, capture_output=True, text=True,
                       timeout=120)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    passed = [line for line in r.stdout.splitlines() if line.startswith("ok   ")]
    assert len(passed) == 15, r.stdout
