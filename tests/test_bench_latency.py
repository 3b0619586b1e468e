"""The trickle bench's timing of each application: the fakes' and the store's own clocks."""

from __future__ import annotations

from seek_sync.bench.latency import Upload, first_held, latencies, percentile, summary


def app(start: float | None, *files: tuple[str, str], removed: str = "") -> dict[str, object]:
    return {
        "accepted_at": start,
        "attachments": [{"id": i, "sha256": s, "removed": i == removed} for i, s in files],
    }


def test_an_application_is_as_late_as_its_last_file_and_its_last_confirmation() -> None:
    held = first_held(
        [
            {"sha256": "a", "accepted_at": 12.0},
            {"sha256": "a", "accepted_at": 11.0},  # the same bytes twice: the first counts
            {"sha256": "b", "accepted_at": 14.5},
            {"sha256": "z", "accepted_at": None},  # never held
        ]
    )
    assert held == {"a": 11.0, "b": 14.5}
    uploads = {"1": Upload("confirmed", 13.0), "2": Upload("confirmed", 20.0)}
    timed = latencies([app(10.0, ("1", "a"), ("2", "b"))], held, uploads)
    assert (timed.accepted_s, timed.confirmed_s, timed.unsettled) == ([4.5], [10.0], 0)


def test_unsettled_ones_are_infinitely_late_and_counted() -> None:
    held = {"a": 11.0, "b": 12.0}
    uploads = {
        "1": Upload("confirmed", 12.0),
        "2": Upload("accepted", 12.0),  # sent, never confirmed
        "3": Upload("confirmed", 15.0),
        "4": Upload("rejected", 15.0),  # our policy refused it: not waited for
    }
    timed = latencies(
        [
            app(10.0, ("1", "a")),  # settled: 1 s, 2 s
            app(10.0, ("2", "b")),  # at the fake, never confirmed
            app(10.0, ("3", "c")),  # confirmed by our store, never at the fake
            app(None, ("1", "a")),  # the receiver never took the webhook
            app(10.0, ("4", "d")),  # nothing left to send
            app(10.0, ("1", "a"), ("5", "e"), removed="5"),  # a removed file is not waited for
        ],
        held,
        uploads,
    )
    assert (timed.not_at_fake, timed.not_confirmed, timed.webhooks_failed) == (1, 1, 1)
    assert (timed.without_files, timed.rejected_files, timed.unsettled) == (1, 1, 3)
    out = timed.as_json()
    assert out["accepted_s"] == {"p50": 1.0, "p95": None, "p99": None, "max": None}
    assert out["confirmed_s"]["p50"] == 2.0 and out["confirmed_s"]["max"] is None


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([3.0], 50) == 3.0
    assert summary([]) == {"p50": None, "p95": None, "p99": None, "max": None}
