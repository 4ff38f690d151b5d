/**
 * kill -9 failover with real `podnetd lb` processes on a shared file store, configured with the legacy MetalLB
 * ConfigMap: the client's ARP gets exactly one MAC, the announcer is killed, another node sends gratuitous ARP,
 * and the client's next ARP gets that node. (No timing assertion: bench/lb measures the time.)
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { buildTopology } from './lbTopology.ts';
import { spawnLb, stopAll, writeLegacyManifests, type LbProcess } from './lbProcesses.ts';
import { measureFailover, resolveMac } from '../../../bench/lbBenchFailover.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { gatherLbStatus } from '../../../src/lb/lbStatusCommand.ts';
import { renderLbStatus } from '../../../src/lb/lbStatus.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const prefix = uniquePrefix('lf');
const snapshot = rootSnapshot(prefix);
test.after.always('root namespace untouched', (t) => t.deepEqual(snapshot.leaks(), []));

test.serial('kill -9 of the announcing podnetd lb: another node takes the IP over with gratuitous ARP', async (t) => {
  const topo = buildTopology(prefix, 3);
  t.teardown(() => topo.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'podnet-lb-'));
  t.teardown(() => { if (!process.env.LB_KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir); });
  writeLegacyManifests(join(dir, 'store'));
  const procs = new Map<string, LbProcess>(topo.nodes.map((n) => [n.mac, spawnLb(join(dir, 'store'), n.name, n.ns, join(dir, 'logs'))]));
  t.teardown(() => stopAll(procs.values()));
  const ip = '198.18.0.200';
  const oldMac = await waitFor('an answer for the LB IP', () => resolveMac(topo.client, ip), 60_000, 200);
  t.true(topo.nodes.some((n) => n.mac === oldMac));
  const round = await measureFailover(topo.client, ip, oldMac, () => {
    procs.get(oldMac)!.child.kill('SIGKILL');
    return procs.get(oldMac)!.node;
  });
  t.not(round.newMac, oldMac);
  t.log(`failover: ${round.seconds.toFixed(2)} s (${round.killed} killed, ${round.newMac} took over)`);
  t.is(await resolveMac(topo.client, ip), round.newMac);
  // podnetctl lb status: the IP, its service, the node that answers and its interface.
  const nodeOf = (mac: string) => topo.nodes.find((n) => n.mac === mac)!.name;
  const store = await openStore(`file:${join(dir, 'store')}`);
  t.teardown(() => store.close());
  const text = await waitFor('the status to show the new node', async () => {
    const out = renderLbStatus(await gatherLbStatus(store));
    return out.includes(`${nodeOf(round.newMac)}   eth0`) ? out : undefined;
  }, 30_000, 200);
  t.regex(text, new RegExp(`^198\\.18\\.0\\.200\\s+default/web\\s+default\\s+${nodeOf(round.newMac)}\\s+eth0\\s+ok$`, 'm'), text);
  t.notRegex(text, new RegExp(`speakers alive: [^;]*${round.killed}`));
});
