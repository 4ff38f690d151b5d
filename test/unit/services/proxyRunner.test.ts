/**
 * ProxyRunner against a fake backend: a burst of store events becomes few syncs, a failed sync makes /healthz
 * 503 and the next sync full, drift triggers a full resync, and health recovers after a good sync.
 */
import test from 'ava';
import { ProxyRunner } from '../../../src/services/proxyRunner.ts';
import { ProxyMetrics } from '../../../src/services/proxyMetrics.ts';
import type { ProxyBackend, BackendSyncResult } from '../../../src/services/backend.ts';
import type { ServiceModel } from '../../../src/services/serviceModel.ts';
import { silentLogger } from '../../../src/common/logger.ts';

class FakeBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  calls: Array<{ full: boolean }> = [];
  failNext = false;
  drift = false;
  async sync(_m: ServiceModel, opts: { full?: boolean } = {}): Promise<BackendSyncResult> {
    this.calls.push({ full: opts.full === true });
    if (this.failNext) {
      this.failNext = false;
      throw new Error('injected');
    }
    return { kind: opts.full ? 'full' : 'incremental', chainsWritten: 1, elementsChanged: 2 };
  }
  async driftDetected(): Promise<boolean> {
    const d = this.drift;
    this.drift = false;
    return d;
  }
  async cleanup(): Promise<void> {}
}

const EMPTY: ServiceModel = { ports: [], skipped: [], nodePortIPs: { IPv4: [], IPv6: [] } };

function make(backend: FakeBackend, syncPeriodMs = 60_000) {
  const metrics = new ProxyMetrics();
  const runner = new ProxyRunner({ backend, metrics, logger: silentLogger, model: () => EMPTY, minSyncPeriodMs: 50, syncPeriodMs,
    fullSyncPeriodMs: 3_600_000, healthTimeoutMs: 120_000, conntrack: false });
  return { runner, metrics };
}

test('a burst of 200 events is coalesced; the first sync is full, the next ones partial', async (t) => {
  const b = new FakeBackend();
  const { runner, metrics } = make(b);
  t.false(runner.health().healthy, 'not healthy before the first sync');
  runner.start();
  await runner.idle();
  for (let i = 0; i < 200; i++) runner.trigger();
  await runner.idle();
  runner.stop();
  t.true(b.calls.length >= 2 && b.calls.length <= 3, `syncs: ${b.calls.length}`);
  t.true(b.calls[0]!.full);
  t.false(b.calls[1]!.full);
  t.true(runner.health().healthy);
  t.regex(await metrics.registry.metrics(), /podnet_sync_full_proxy_rules_duration_seconds_count 1/);
});

test('a failed sync: /healthz 503, failure counted, the retry is a full sync, then healthy again', async (t) => {
  const b = new FakeBackend();
  const { runner, metrics } = make(b);
  runner.start();
  await runner.idle();
  b.failNext = true;
  runner.trigger();
  await new Promise((r) => setTimeout(r, 80));
  while (b.calls.length < 2) await new Promise((r) => setTimeout(r, 20));
  t.false(runner.health().healthy);
  t.regex(await metrics.registry.metrics(), /podnet_sync_proxy_rules_failures_total\{mode="nftables"\} 1/);
  runner.trigger();
  await runner.idle();
  runner.stop();
  t.true(b.calls.at(-1)!.full, 'retry after failure is full');
  t.true(runner.health().healthy);
});

test('drift detected by the periodic check → full resync and a repair counted', async (t) => {
  const b = new FakeBackend();
  const { runner, metrics } = make(b, 30);
  runner.start();
  await runner.idle();
  b.drift = true;
  while (b.calls.length < 2) await new Promise((r) => setTimeout(r, 20));
  await runner.idle();
  runner.stop();
  t.true(b.calls[1]!.full);
  t.regex(await metrics.registry.metrics(), /podnet_sync_proxy_rules_drift_repairs_total 1/);
});
