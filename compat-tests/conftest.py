"""Shared fixtures for the firelocal compatibility suite.

One firelocal process is started per test session (ephemeral state, port 0);
every test gets its own uniquely named bucket so tests stay independent.
"""

import contextlib
import functools
import http.server
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
VENV_BIN = HERE / ".venv" / "bin"

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"

BANNER_RE = re.compile(r"ready on (http://[^\s]+)")
BANNER_TIMEOUT = 10.0
# firelocal's stderr goes to a file under pytest's temp dir; FIRELOCAL_LOG_LEVEL=info logs every request.
LOG_LEVEL = os.environ.get("FIRELOCAL_LOG_LEVEL", "warn")


def _firelocal_bin() -> Path:
    env = os.environ.get("FIRELOCAL_BIN")
    if env:
        p = Path(env)
        return p if p.is_absolute() else (REPO_ROOT / p)
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / "firelocal"


def _read_banner(proc: subprocess.Popen, timeout: float) -> str:
    """Reads stdout line by line until the banner appears; returns the URL."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    buf = b""
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"firelocal printed no banner within {timeout}s; stdout so far: {seen!r} {buf!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            rc = proc.wait(timeout=5)
            raise RuntimeError(f"firelocal exited (rc={rc}) before printing its banner; stdout: {seen!r} {buf!r}")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace")
            seen.append(text)
            m = BANNER_RE.search(text)
            if m:
                return m.group(1).rstrip("/")


@contextlib.contextmanager
def serve(tmp_path_factory, *extra_args):
    """Runs firelocal on a free port with `extra_args`, yields its endpoint, and checks that it
    stops cleanly on SIGTERM."""
    binary = _firelocal_bin()
    if not binary.exists():
        pytest.exit(f"firelocal binary not found at {binary} (set FIRELOCAL_BIN)", returncode=2)
    log_path = tmp_path_factory.mktemp("firelocal-logs") / "stderr.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary), "serve", "--port", "0", "--host", "127.0.0.1", "--region", REGION, "--log-level", LOG_LEVEL, *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        url = _read_banner(proc, BANNER_TIMEOUT)
    except Exception:
        proc.kill()
        proc.wait()
        log.close()
        sys.stderr.write(log_path.read_text(errors="replace"))
        raise
    # Keep draining stdout so that anything printed after the banner can never fill the pipe
    # and block the server.
    threading.Thread(target=lambda: [None for _ in iter(lambda: proc.stdout.read(65536), b"")], daemon=True).start()
    try:
        yield url
    finally:
        # Stop cleanly: SIGTERM, then wait; a clean shutdown exits 0.
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = "killed after SIGTERM timeout"
        log.close()
        if rc != 0:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        assert rc == 0, f"firelocal did not exit cleanly on SIGTERM: rc={rc}"


@pytest.fixture(scope="session")
def firelocal_endpoint(tmp_path_factory):
    with serve(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def endpoint_port(firelocal_endpoint):
    return int(firelocal_endpoint.rsplit(":", 1)[1])


def make_client(endpoint, service="s3", region=REGION, **config_kwargs):
    cfg = {"retries": {"max_attempts": 1, "mode": "standard"}}
    if service == "s3":
        cfg["s3"] = {"addressing_style": "path"}
    cfg.update(config_kwargs)
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(**cfg),
    )


@pytest.fixture(scope="session")
def s3(firelocal_endpoint):
    return make_client(firelocal_endpoint)


@pytest.fixture(scope="session")
def s3_eu(firelocal_endpoint):
    return make_client(firelocal_endpoint, region="eu-west-1")


@pytest.fixture
def bucket_name(request):
    """A unique, valid bucket name (not yet created)."""
    stem = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:30].strip("-")
    return f"ct-{stem}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(s3, bucket_name):
    """A created, empty bucket unique to the test."""
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def _aws_env(endpoint, extra=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    if extra:
        env.update(extra)
    return env


# `--only-show-errors` is an option of these `aws s3` transfer commands only; the CLI rejects
# it anywhere else ("Unknown options").
_QUIET_S3_COMMANDS = {"cp", "mv", "rm", "sync"}


@pytest.fixture(scope="session")
def aws_cli(firelocal_endpoint, tmp_path_factory):
    """Runs the AWS CLI against firelocal; returns the CompletedProcess (raises only with check=True).

    `aws s3 cp|mv|rm|sync` get `--only-show-errors` unless quiet=False.
    """
    aws = VENV_BIN / "aws"
    if not aws.exists():
        found = subprocess.run(["which", "aws"], capture_output=True, text=True).stdout.strip()
        aws = Path(found) if found else aws
    config_dir = tmp_path_factory.mktemp("aws-config")
    configs = {}

    def config_file(s3_settings):
        """An AWS config file with path-style addressing plus the given `s3 =` settings."""
        key = tuple(sorted(s3_settings.items()))
        if key not in configs:
            path = config_dir / f"config{len(configs)}"
            lines = ["[default]", f"region = {REGION}", "s3 =", "    addressing_style = path"]
            lines += [f"    {k} = {v}" for k, v in key]
            path.write_text("\n".join(lines) + "\n")
            configs[key] = path
        return configs[key]

    def run(*args, check=False, timeout=120, cwd=None, extra_env=None, quiet=True, read_timeout=30, s3_config=None):
        """`read_timeout` (--cli-read-timeout) keeps a hung request from costing the CLI's default
        60 s; `s3_config` adds settings under `s3 =` in the config file (e.g. max_concurrent_requests)."""
        args = [str(a) for a in args]
        if quiet and len(args) >= 2 and args[0] == "s3" and args[1] in _QUIET_S3_COMMANDS:
            args.insert(2, "--only-show-errors")
        cmd = [str(aws), "--cli-read-timeout", str(read_timeout), *args]
        env = _aws_env(
            firelocal_endpoint, {"AWS_CONFIG_FILE": str(config_file(s3_config or {})), **(extra_env or {})}
        )
        proc = subprocess.run(
            cmd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(map(str, args))} failed rc={proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    return run


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_dom(url, profile_dir, budget_ms=10000, log=False):
    """Loads `url` in headless Chromium and lets its scripts run for `budget_ms` of virtual time:
    (the DOM as HTML, Chromium's stderr)."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile_dir}", f"--virtual-time-budget={budget_ms}"]
    if log:
        args += ["--enable-logging=stderr", "--v=0"]
    out = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    return out.stdout, out.stderr


@contextlib.contextmanager
def static_site(directory):
    """Serves `directory` from another origin (127.0.0.1 on a free port); yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
