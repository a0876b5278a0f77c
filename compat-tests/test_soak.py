"""The short version of the soak (compat-tests/soak.py): 32 clients of the seed's mixed traffic
for 20 s get no error, and the server's descriptors and worker processes stay bounded."""

from soak import run


def test_a_short_soak_has_no_errors():
    rows = run(seconds=20, clients=32, every=5)
    assert sum(r["requests"] for r in rows) > 500, rows
    assert all(r["errors"] == 0 for r in rows), [r["first_errors"] for r in rows if r["errors"]]
    assert max(r["fds"] for r in rows) < 1000, rows
    assert max(r["children"] for r in rows) <= 64, rows
