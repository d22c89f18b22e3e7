#!/usr/bin/env python3
"""domstats of many running domains in one call (issue 11: "100 running
domains: under 50 ms"). Not part of the test suite; prints figures.

Starts a private virtd (the integration harness's Daemon, own --root),
defines N domains named hs-bench-NNN (64 MiB, 1 vCPU, one sparse raw disk
and no NIC: taps need a bridge), starts them --paused (QEMU runs, its QMP
answers, the guest executes nothing: N busy TCG guests would measure the
machine, not the daemon), then times GET /v1/domain-stats with every group
(one query-blockstats per domain, /proc for the rest) and with --state
only, and `vsh domstats` end to end. Cleans everything up, also on failure.

    ./bench/domstats_bench.py [--domains 100] [--runs 20]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'integration'))
import harness  # noqa: E402


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {'median_ms': round(statistics.median(samples), 2),
            'p95_ms': round(samples[int(len(samples) * 0.95) - 1], 2),
            'min_ms': round(samples[0], 2), 'max_ms': round(samples[-1], 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--domains', type=int, default=100)
    ap.add_argument('--runs', type=int, default=20)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='hs-bench-')
    names = ['hs-bench-%03d' % i for i in range(args.domains)]
    try:
        with harness.Daemon() as d:
            t0 = time.monotonic()
            for n in names:
                disk = os.path.join(tmp, n + '.img')
                with open(disk, 'wb') as f:
                    f.truncate(16 << 20)
                d.define(n, harness.domain_xml(n, memory_mib=64,
                                               extra_devices=harness.disk_xml(disk)))
                d.vsh('start', n, '--paused')
            started = time.monotonic() - t0
            running = [r for r in harness.parse_list(d.vsh('list')[1]) if r[2] == 'paused']
            assert len(running) == args.domains, running

            def all_groups():
                ans = json.loads(d.api('GET', '/v1/domain-stats').body)
                assert len(ans['domains']) == args.domains
                assert 'warnings' not in ans, ans['warnings']
                assert all('block.0.rd.reqs' in r['stats'] for r in ans['domains'])

            def state_only():
                d.api('GET', '/v1/domain-stats?groups=state')

            def no_block():
                d.api('GET', '/v1/domain-stats?groups=state,cpu-total,balloon,vcpu,interface')

            def block_only():
                d.api('GET', '/v1/domain-stats?groups=block')

            def vsh_domstats():
                d.vsh('domstats')

            all_groups()  # the first call asks each QEMU for its vCPU threads
            out = {
                'domains': args.domains,
                'runs': args.runs,
                'start_all_s': round(started, 1),
                'api_all_groups': timed(all_groups, args.runs),
                'api_state_only': timed(state_only, args.runs),
                'api_all_but_block': timed(no_block, args.runs),
                'api_block_only': timed(block_only, args.runs),
                'vsh_domstats_all_groups': timed(vsh_domstats, max(5, args.runs // 4)),
                'nproc': os.cpu_count(),
                'load_avg': os.getloadavg(),
            }
            print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
