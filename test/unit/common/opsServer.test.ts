import test from 'ava';
import { Counter, Registry } from 'prom-client';
import { startOpsServer } from '../../../src/common/opsServer.ts';

test('serves /metrics from the registry and /healthz from the health function', async (t) => {
  const registry = new Registry();
  const syncs = new Counter({ name: 'podnet_test_syncs_total', help: 'syncs', registers: [registry] });
  syncs.inc(3);
  let healthy = true;
  const ops = await startOpsServer({
    host: '127.0.0.1', port: 0, registry,
    health: () => ({ healthy, detail: { lastSync: 'now' } }),
  });
  t.teardown(() => ops.close());
  const base = `http://127.0.0.1:${ops.port}`;

  const metrics = await fetch(`${base}/metrics`);
  t.is(metrics.status, 200);
  t.regex(await metrics.text(), /^podnet_test_syncs_total 3$/m);

  const ok = await fetch(`${base}/healthz`);
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { healthy: true, lastSync: 'now' });

  healthy = false;
  const bad = await fetch(`${base}/healthz`);
  t.is(bad.status, 503, 'an unhealthy part answers 503, as kube-proxy does');
  t.is((await fetch(`${base}/nothing`)).status, 404);
});

test('a port that stays in use is an error after the bounded wait, not a crash', async (t) => {
  const first = await startOpsServer({ host: '127.0.0.1', port: 0 });
  t.teardown(() => first.close());
  await t.throwsAsync(startOpsServer({ host: '127.0.0.1', port: first.port, busyWaitMs: 300 }), { code: 'EADDRINUSE' });
});

test('a port the process being replaced releases during the wait is taken (a restart)', async (t) => {
  const old = await startOpsServer({ host: '127.0.0.1', port: 0 });
  const next = startOpsServer({ host: '127.0.0.1', port: old.port, busyWaitMs: 10_000 });
  setTimeout(() => void old.close(), 300);
  const s = await next;
  t.teardown(() => s.close());
  t.is(s.port, old.port);
  t.is((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status, 200);
});
