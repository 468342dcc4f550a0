"""`hotline bench ami` runs to the end from a checkout (small sizes: a smoke test, never a timing)."""

from gateway.calls.bench import _main


async def test_the_ami_bench_runs_on_the_recorded_sessions(capsys) -> None:  # type: ignore[no-untyped-def]
    await _main(copies=2, pings=20, calls=5)
    out = capsys.readouterr().out
    assert "0 calls left open" in out and "ratio" in out
