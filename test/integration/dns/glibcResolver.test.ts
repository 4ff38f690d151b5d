/**
 * The glibc resolver (`getent`) in a pod-like network namespace whose resolv.conf is what kubelet writes:
 * `search <ns>.svc.cluster.local svc.cluster.local cluster.local` and `options ndots:5`. The DNS server runs inside
 * the namespace on its loopback (ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, runTool } from '../../../src/common/systemTools.ts';
import { ip, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { clusterIpService, endpoint, headlessService, namespace, slice } from '../../unit/dns/helpers/dnsObjects.ts';

const prefix = uniquePrefix('dns');
const root = rootSnapshot(prefix);
test.after.always('nothing left in the root namespace', (t) => { t.deepEqual(root.leaks(), []); });

const IP = findTool('ip')!;

async function podNamespaceWithDns(t: import('ava').ExecutionContext, name: string): Promise<{ ns: string; upstreamAsked: string[] }> {
  const ns = makeNetns(t, prefix, name);
  // A pod has an interface with an address; without one getaddrinfo's AI_ADDRCONFIG skips IPv4 lookups.
  ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  ip(['-n', ns, 'addr', 'add', '10.244.9.2/24', 'dev', 'eth0']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  ip(['-n', ns, 'link', 'set', 'peer0', 'up']);
  const etc = `/etc/netns/${ns}`;
  mkdirSync(etc, { recursive: true });
  t.teardown(() => rmSync(etc, { recursive: true, force: true }));
  writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n');
  const objectsFile = join(tmpdir(), `${ns}-objects.json`);
  writeFileSync(objectsFile, JSON.stringify([
    namespace('default'), namespace('apps'),
    clusterIpService('default', 'web', ['10.96.0.20'], [{ name: 'http', port: 80, protocol: 'TCP' }]),
    clusterIpService('apps', 'api', ['10.96.0.30']),
    headlessService('apps', 'db'),
    slice('apps', 'db', 'db-a', [endpoint('10.244.1.5', { hostname: 'db-0' }), endpoint('10.244.1.6', { hostname: 'db-1' })]),
  ]));
  t.teardown(() => rmSync(objectsFile, { force: true }));
  const child = spawn(IP, ['netns', 'exec', ns, process.execPath, '--import=tsx', 'test/integration/dns/helpers/netnsDnsServer.ts', objectsFile, '53'],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill('SIGTERM'); });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d); });
  const upstreamAsked: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      for (const line of String(d).split('\n')) {
        if (line.startsWith('ready')) resolve();
        if (line.startsWith('upstream ')) upstreamAsked.push(line.slice(9));
      }
    });
    child.on('exit', (code) => reject(new Error(`DNS server exited (${code}): ${stderr.slice(0, 500)}`)));
  });
  return { ns, upstreamAsked };
}

async function getent(ns: string, ...args: string[]): Promise<string> {
  const r = await runTool(IP, ['netns', 'exec', ns, 'getent', ...args], { allowFailure: true, timeoutMs: 20_000 });
  return r.stdout.trim();
}

test('getent resolves short, namespace-qualified and full names through the search path', async (t) => {
  const { ns } = await podNamespaceWithDns(t, 'fwd');
  t.regex(await getent(ns, 'ahostsv4', 'web'), /^10\.96\.0\.20\s+STREAM web\.default\.svc\.cluster\.local/m);
  t.regex(await getent(ns, 'hosts', 'api.apps'), /^10\.96\.0\.30\s+api\.apps\.svc\.cluster\.local/);
  t.regex(await getent(ns, 'hosts', 'web.default.svc.cluster.local'), /^10\.96\.0\.20\s+web\.default\.svc\.cluster\.local/);
  t.regex(await getent(ns, 'hosts', 'db-0.db.apps'), /^10\.244\.1\.5\s+db-0\.db\.apps\.svc\.cluster\.local/);
  const both = (await getent(ns, 'ahostsv4', 'db.apps')).split('\n').map((l) => l.split(/\s+/)[0]);
  t.deepEqual([...new Set(both)].sort(), ['10.244.1.5', '10.244.1.6']);
});

test('getent reverse lookups return the Service and endpoint names; unknown names fail cleanly', async (t) => {
  const { ns } = await podNamespaceWithDns(t, 'rev');
  t.regex(await getent(ns, 'hosts', '10.96.0.20'), /^10\.96\.0\.20\s+web\.default\.svc\.cluster\.local/);
  t.regex(await getent(ns, 'hosts', '10.244.1.6'), /^10\.244\.1\.6\s+db-1\.db\.apps\.svc\.cluster\.local/);
  t.is(await getent(ns, 'hosts', 'nosuch'), '');
  t.is(await getent(ns, 'hosts', 'nosuch.apps'), '');
});

test('an external name under ndots:5: the search-path tries are answered here, only the real name goes upstream', async (t) => {
  const { ns, upstreamAsked } = await podNamespaceWithDns(t, 'ext');
  t.regex(await getent(ns, 'ahostsv4', 'www.example.org'), /^192\.0\.2\.1\s+STREAM www\.example\.org/m);
  t.deepEqual([...new Set(upstreamAsked)], ['www.example.org'], 'no *.cluster.local suffix reached the upstream');
});
