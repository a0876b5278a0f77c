"""demo/frontend (the docker-compose front end) in headless Chromium against a firelocal started
with `--init fixtures/clickstream.yaml`: the page finds the REST API from the stack's outputs,
a click on a button POSTs across origins (CORS preflight and all), and the click is in S3 after
a flush. Also checks the Dockerfile and docker-compose.yml hold together."""

import json
import pathlib
import re
import shutil

import pytest

from conftest import CHROMIUM, chromium_dom, make_client, serve, static_site

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Loads the front end in a same-origin frame, waits for it to be ready, clicks two buttons and
# reports what the page says.
HARNESS = """<!doctype html><html><body><iframe id="f" src="index.html?endpoint=%(endpoint)s"></iframe><script>
const f = document.getElementById('f');
function wait(cond, then) { const t = setInterval(() => { if (cond()) { clearInterval(t); then(); } }, 20); }
f.addEventListener('load', () => {
  const d = f.contentDocument;
  wait(() => d.body.dataset.ready || d.getElementById('status').textContent.includes('not reachable'), () => {
    d.querySelector('button[data-element="add_to_cart"]').click();
    wait(() => d.body.dataset.sent === '1' || d.body.dataset.error, () => {
      d.querySelector('button[data-element="checkout"]').click();
      wait(() => d.body.dataset.sent === '2' || d.body.dataset.error, () => {
        document.body.setAttribute('data-result', d.getElementById('status').textContent + ' | sent=' + d.body.dataset.sent);
      });
    });
  });
});
</script></body></html>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs it when run as root)")
def test_the_front_end_sends_clicks_into_the_pipeline(tmp_path_factory, tmp_path):
    with serve(tmp_path_factory, "--init", str(ROOT / "fixtures" / "clickstream.yaml")) as endpoint:
        site = tmp_path / "site"
        shutil.copytree(ROOT / "demo" / "frontend", site)
        (site / "harness.html").write_text(HARNESS % {"endpoint": endpoint})
        with static_site(site) as web:
            dom, log = chromium_dom(f"{web}/harness.html", tmp_path / "profile")
        result = re.search(r'data-result="([^"]*)"', dom)
        assert result, (dom[-2000:], log[-2000:])
        assert result.group(1).endswith("sent=2") and "the last: checkout" in result.group(1), result.group(1)
        urlopen = __import__("urllib.request").request.urlopen
        urlopen(__import__("urllib.request").request.Request(f"{endpoint}/_firelocal/firehose/flush", method="POST")).read()
        s3 = make_client(endpoint, "s3")
        outputs = json.loads(urlopen(f"{endpoint}/_firelocal/console/api/stacks/clickstream/outputs").read())
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=outputs["BucketName"], Prefix="clickstream/")["Contents"]]
        body = b"".join(s3.get_object(Bucket=outputs["BucketName"], Key=k)["Body"].read() for k in keys).decode()
        assert [json.loads(line)["element_clicked"] for line in body.splitlines()] == ["add_to_cart", "checkout"]


def test_the_container_files_hold_together():
    """No Docker engine here: check what a linter would (hadolint's rules, the compose schema's
    essentials) on the two files."""
    import yaml

    docker = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", docker, re.M)
    assert len(stages) == 2 and all(":" in image and not image.endswith(":latest") for image, _ in stages), "two stages, pinned images"
    assert re.search(r"^USER\s+firelocal", docker, re.M), "a non-root user"
    assert "HEALTHCHECK" in docker and "/_firelocal/health" in docker
    assert "--no-install-recommends" in docker and "rm -rf /var/lib/apt/lists/*" in docker, "a lean apt layer"
    assert "--host\", \"0.0.0.0\"" in docker, "listens beyond the container's loopback"
    for src in re.findall(r"^COPY\s+(?!--from)(\S+)", docker, re.M):
        assert (ROOT / src).exists(), f"COPY {src}: no such path"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    svc = compose["services"]
    assert set(svc) == {"firelocal", "frontend"}
    assert svc["firelocal"]["ports"] == ["4566:4566"] and svc["firelocal"]["build"] == "."
    assert svc["frontend"]["depends_on"]["firelocal"]["condition"] == "service_healthy"
    assert "firelocal-data" in compose["volumes"]
    for volume in svc["frontend"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).exists()
