/**
 * `podnetd dns` keeps answering while 20,000 store events arrive: 10,000 Services and their 10,000 EndpointSlices
 * dropped into its file store as one manifest (the zone is built on the index worker thread, indexWorker.ts). A
 * client asks pre-existing names throughout: every query gets an answer, and every answer is the right address.
 * Afterwards the churned names and a Service created after the burst resolve.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function service(ns: string, name: string, ip: string) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80 }] } };
}

function endpointSlice(ns: string, svc: string, ip: string) {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-x`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [ip], conditions: { ready: true } }],
  };
}

const ipOf = (base: number, i: number) => `10.${base}.${i >> 8}.${i & 255}`;

function writeList(dir: string, file: string, items: unknown[]): void {
  writeFileSync(join(dir, `.${file}.tmp`), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  renameSync(join(dir, `.${file}.tmp`), join(dir, file));
}

/** A UDP client: query(name) → the first A address, or 'NXDOMAIN'/'timeout'. */
function client() {
  const sock = createSocket('udp4');
  const waiting = new Map<number, (answer: string) => void>();
  sock.on('message', (m) => {
    const done = waiting.get(m.readUInt16BE(0));
    if (!done) return;
    waiting.delete(m.readUInt16BE(0));
    if ((m[3]! & 0xf) !== 0) { done(`rcode ${m[3]! & 0xf}`); return; }
    if (m.readUInt16BE(6) === 0) { done('no answer'); return; }
    let at = 12;
    while (m[at] !== 0) at += m[at]! + 1;
    at += 5; // root label, qtype, qclass
    at += 2 + 10; // compressed owner, type, class, ttl, rdlength
    done(`${m[at]}.${m[at + 1]}.${m[at + 2]}.${m[at + 3]}`);
  });
  let nextId = 1;
  return {
    query(port: number, name: string, timeoutMs: number): Promise<string> {
      const id = nextId++ & 0xffff;
      const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
      const msg = Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
      return new Promise((resolve) => {
        const timer = setTimeout(() => { waiting.delete(id); resolve('timeout'); }, timeoutMs);
        waiting.set(id, (a) => { clearTimeout(timer); resolve(a); });
        sock.send(msg, port, '127.0.0.1');
      });
    },
    close: () => sock.close(),
  };
}

test('20,000 store events while queries are answered: none lost, all correct; new names resolve after', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-dns-churn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const targets = Array.from({ length: 50 }, (_, i) => service('q', `q-${i}`, ipOf(100, i)));
  writeList(dir, 'targets.json', targets);
  const [port, metrics] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import=tsx', 'cmd/podnetd/main.ts', 'dns', '--store', `file:${dir}`, '--listen', `127.0.0.1:${port}`,
    '--metrics', `127.0.0.1:${metrics}`, '--upstream', 'none', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  for (let i = 0; i < 150 && (await fetch(`http://127.0.0.1:${metrics}/ready`).catch(() => null))?.status !== 200; i++) await sleep(200);
  const c = client();
  t.teardown(() => c.close());
  t.is(await c.query(port, 'q-0.q.svc.cluster.local', 2000), ipOf(100, 0));
  // The index thread runs niced (bulk), the answering thread does not.
  const nice = (tid: string) => Number(readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
  const tids = readdirSync(`/proc/${child.pid}/task`);
  t.is(nice(String(child.pid)), 0, 'the answering thread at nice 0');
  t.true(tids.some((tid) => nice(tid) === 10), 'a thread (the index worker) at nice 10');

  const churn: unknown[] = [];
  for (let i = 0; i < 10_000; i++) churn.push(service('churn', `s-${i}`, ipOf(200, i)));
  for (let i = 0; i < 10_000; i++) churn.push(endpointSlice('churn', `s-${i}`, ipOf(64, i)));
  const asked: Array<Promise<boolean>> = [];
  let stop = false;
  const asking = (async () => {
    // 200 queries a second over the pre-existing names until the churned zone is complete (bounded: 60 s).
    for (let i = 0; !stop && i < 12_000; i++) {
      const k = i % targets.length;
      asked.push(c.query(port, `q-${k}.q.svc.cluster.local`, 2000).then((a) => a === ipOf(100, k)));
      await sleep(5);
    }
  })();
  writeList(dir, 'churn.json', churn);
  let complete = false;
  for (let i = 0; i < 600 && !complete; i++) {
    await sleep(100);
    complete = (await c.query(port, 's-9999.churn.svc.cluster.local', 2000)) === ipOf(200, 9999)
      && (await c.query(port, `${ipOf(64, 9999).replaceAll('.', '-')}.s-9999.churn.svc.cluster.local`, 2000)) === ipOf(64, 9999);
  }
  stop = true;
  await asking;
  const results = await Promise.all(asked);
  t.true(complete, 'the churned zone arrived');
  t.true(results.length > 100, `asked ${results.length} queries during the churn`);
  t.is(results.filter((ok) => !ok).length, 0, `every one of ${results.length} queries answered, correctly`);
  for (const i of [0, 1234, 5000, 9998]) t.is(await c.query(port, `s-${i}.churn.svc.cluster.local`, 2000), ipOf(200, i));

  writeList(dir, 'fresh.json', [service('churn', 'fresh', '10.250.0.1')]);
  let fresh = '';
  for (let i = 0; i < 100 && fresh !== '10.250.0.1'; i++) { await sleep(100); fresh = await c.query(port, 'fresh.churn.svc.cluster.local', 2000); }
  t.is(fresh, '10.250.0.1', 'a Service created after the burst resolves');
  child.kill('SIGTERM');
});
