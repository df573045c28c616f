"""bench.graphql_peer reads wrk's report (with bench/peer/graphql.lua's lines): the figures it prints come
from here, so a misread unit or a failure not counted would print a wrong ratio. The reports below are
wrk 4.1.0's (Debian), captured from real runs; neither wrk nor PostGraphile is needed to run this."""

import pytest

from bench.graphql_peer import parse_wrk

ANSWERED = """Running 2s test @ http://127.0.0.1:18777/graphql
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    17.24ms   31.79ms 244.44ms   92.19%
    Req/Sec     0.91k   455.69     1.93k    66.67%
  Latency Distribution
     50%    7.04ms
     75%   13.20ms
     90%   31.21ms
     99%  180.64ms
  3558 requests in 2.02s, 1.39MB read
Requests/sec:   1765.66
Transfer/sec:    708.68KB
graphql errors: 0
"""

REFUSED = """Running 2s test @ http://127.0.0.1:18777/graphql
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.74ms    7.60ms  86.61ms   91.75%
    Req/Sec     5.73k     2.58k   11.70k    72.50%
  Latency Distribution
     50%  540.00us
     75%    3.94ms
     90%    9.96ms
     99%    1.04s
  22975 requests in 2.01s, 7.25MB read
  Socket errors: connect 0, read 4, write 0, timeout 2
Requests/sec:  11417.99
Transfer/sec:      3.60MB
graphql errors: 22975
first error: 200 {"errors":[{"message":"Cannot query field \\"nope\\" on type \\"Brand\\"."}]}
"""


def test_a_clean_run_gives_its_rate_and_percentiles_in_milliseconds() -> None:
    run = parse_wrk(ANSWERED)
    assert (run.requests, run.seconds, run.p50_ms, run.p99_ms) == (3558, 2.02, 7.04, 180.64)
    assert run.rate == pytest.approx(1761.4, abs=0.1)
    assert (run.failed, run.why) == (0, "")


def test_microseconds_and_seconds_become_milliseconds() -> None:
    run = parse_wrk(REFUSED)
    assert run.p50_ms == pytest.approx(0.54)
    assert run.p99_ms == pytest.approx(1040)


def test_graphql_errors_and_socket_errors_count_as_failed_with_the_first_reason() -> None:
    run = parse_wrk(REFUSED)
    assert run.failed == 22975 + 4 + 2
    assert run.why.startswith('first error: 200 {"errors":[{"message":"Cannot query field')
    assert run.why.endswith("Socket errors: connect 0, read 4, write 0, timeout 2")


def test_a_report_without_the_scripts_count_is_refused() -> None:
    """Without graphql.lua's line nothing says whether the answers were errors: no figures then."""
    with pytest.raises(ValueError, match="graphql errors"):
        parse_wrk(ANSWERED.replace("graphql errors: 0\n", ""))
