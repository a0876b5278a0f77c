"""The AWS SDK for JavaScript v3 (pinned in compat-tests/js/package-lock.json, installed by
compat-tests/run.sh) runs the seed's flow against the same firelocal, under Node's built-in test
runner (compat-tests/js/seed.test.mjs)."""

import os
import pathlib
import shutil
import subprocess

HERE = pathlib.Path(__file__).resolve().parent


def test_the_js_sdk_suite(firelocal_endpoint):
    node = shutil.which("node")
    assert node, "Node.js is needed for the JS SDK suite"
    env = dict(os.environ, FIRELOCAL_ENDPOINT=firelocal_endpoint, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    for k in [k for k in env if k.startswith("AWS_") and k not in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")]:
        del env[k]
    r = subprocess.run([node, "--test", "--test-reporter=spec", "seed.test.mjs"], cwd=HERE / "js", env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "pass 4" in r.stdout and "fail 0" in r.stdout, r.stdout[-3000:]
