/**
 * `podnetd route --backend bgp` alone (no agent): two node namespaces whose Node objects are in a file store
 * already (pod CIDRs set), each running the BGP backend with `--asn` and a `--bgp-config` file; each installs the
 * other's pod CIDR with proto 159 and answers `podnetctl bgp status`; SIGTERM stops it and leaves the routes.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../../../src/common/systemTools.ts';
import { podnetdCommand } from '../../../src/lab/lab.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { ctlBgpStatus, routeVia, startFabric } from './helpers/bgpNodes.ts';

const prefix = uniquePrefix('bgc');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

test.serial('podnetd route --backend bgp: two nodes learn each other\'s pod CIDRs', async (t) => {
  const f = startFabric(t, prefix, 2);
  const dir = mkdtempSync(join(tmpdir(), 'podnet-bgproute-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(f.store);
  t.teardown(() => store.close());
  for (const [i, n] of f.nodes.entries()) {
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.id }, spec: { podCIDR: `10.244.${i + 1}.0/24`, podCIDRs: [`10.244.${i + 1}.0/24`] }, status: { addresses: [{ type: 'InternalIP', address: n.address }] } });
  }
  writeFileSync(join(dir, 'bgp.yaml'), 'bfd: false\ngracefulRestartTime: 30s\n');
  const podnetd = podnetdCommand();
  const procs = f.nodes.map((n) => {
    const child = spawn(findTool('ip')!, ['netns', 'exec', n.ns, ...podnetd.argv, 'route', '--backend', 'bgp', '--asn', '64512', '--bgp-config', join(dir, 'bgp.yaml'),
      '--store', f.store, '--node', n.id, '--no-masquerade'], { cwd: podnetd.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b: Buffer) => { log += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { log += b.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } });
    return { child, exited, log: () => log };
  });
  const [n1, n2] = f.nodes;
  await waitFor(`n1: n2's pods via n2 (log: ${procs[0]!.log().slice(-800)})`, () => routeVia(n1!.ns, '10.244.2.0/24')?.join() === n2!.address, 60_000);
  await waitFor('n2: n1\'s pods via n1', () => routeVia(n2!.ns, '10.244.1.0/24')?.join() === n1!.address, 60_000);
  const status = await ctlBgpStatus(n1!);
  t.regex(status.stdout, /198\.18\.0\.12\s+64512\s+Established/);
  procs[0]!.child.kill('SIGTERM');
  t.is(await procs[0]!.exited, 0, 'a clean exit on SIGTERM');
  t.deepEqual(routeVia(n1!.ns, '10.244.2.0/24'), [n2!.address], 'the kernel route stays for the next start to adopt');
});
