/**
 * The disruptive Service behaviours, registered per proxy mode by serviceBehaviours.test.ts (same lab):
 * - UDP conntrack (kubernetes test/e2e/network/conntrack.go): a UDP client keeps one socket (one conntrack entry)
 *   while its Service's endpoint changes from p2 to p3; its next datagrams must reach p3. p2 keeps running, so a
 *   stale entry would keep answering from p2: only a deleted entry makes p3 answer.
 * - kill -9 of the client's node's podnetd and a restart while a TCP stream through a ClusterIP runs: every line
 *   sent is answered, on the same connection.
 * - someone flushes the proxy's rules on a node: served again within one drift-check period (agent
 *   proxy.syncPeriod) plus a sync.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { Lab } from '../../../src/lab/lab.ts';
import type { LabProxyMode } from '../../../src/lab/addressPlan.ts';
import { nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { parseDuration } from '../../../src/daemon/proxyPart.ts';
import type { Store } from '../../../src/store/store.ts';
import { IP, putSlice, sliceFor, type PodName } from './_serviceManifests.ts';
import { LineStream, curl, killAndRestartAgent, pump, tool, waitFor } from './_serviceLab.ts';

interface Ctx { lab: Lab; store: Store; podIPs: Map<PodName, string> }
const POD_ANSWER = /p[123]/g;
const UDP_PORT = { name: 'dns', protocol: 'UDP' as const, port: 8081 };

export function registerDisruptionTests(mode: LabProxyMode, ctx: () => Ctx): void {
  test.serial(`${mode}: UDP conntrack: when the endpoint goes, the same client socket reaches the new endpoint`, async (t) => {
    const { lab, store, podIPs } = ctx();
    await putSlice(store, sliceFor('udp', podIPs, { p2: {} }, UDP_PORT));
    const stream = new LineStream(await lab.resolve('p1'), `UDP:${IP.udp}:53`);
    const sender = pump(stream, 100, 600);
    try {
      await waitFor('UDP answers from p2', () => stream.answers(POD_ANSWER).filter((a) => a === 'p2').length >= 3);
      t.false(stream.answers(POD_ANSWER).includes('p3'), 'p3 is not an endpoint yet');
      const before = stream.answers(POD_ANSWER).length;
      await putSlice(store, sliceFor('udp', podIPs, { p3: {} }, UDP_PORT));
      await waitFor('UDP answers from p3 on the same socket', () => stream.answers(POD_ANSWER).slice(before).includes('p3'));
      const after = stream.answers(POD_ANSWER).length;
      await waitFor('three more answers', () => stream.answers(POD_ANSWER).length >= after + 3);
      t.deepEqual([...new Set(stream.answers(POD_ANSWER).slice(after))], ['p3'], 'from then on only p3 answers');
    } finally {
      sender.stop();
      stream.stop();
      await putSlice(store, sliceFor('udp', podIPs, { p2: {} }, UDP_PORT));
    }
  });

  test.serial(`${mode}: kill -9 podnetd and start it again: a TCP stream through a ClusterIP goes on`, async (t) => {
    const { lab } = ctx();
    await waitFor('stream Service answers', async () => (await lab.exec('p1', ['socat', '-T2', '-', `TCP:${IP.stream}:82`],
      { input: 'x\n', allowFailure: true })).stdout.trim() === 'p2');
    const stream = new LineStream(await lab.resolve('p1'), `TCP:${IP.stream}:82`);
    const sender = pump(stream, 50, 3000);
    let sent = 0;
    try {
      await waitFor('the stream runs', () => stream.answers(POD_ANSWER).length >= 5);
      await killAndRestartAgent(lab, 'n1');
      const mark = stream.answers(POD_ANSWER).length;
      await waitFor('answers after the restart', () => stream.answers(POD_ANSWER).length >= mark + 10);
      sent = sender.stop();
      await waitFor('every line answered', () => stream.answers(POD_ANSWER).length >= sent, 10_000);
      t.is(stream.exited, null, `the connection is still open (${stream.stderr.trim()})`);
      t.is(stream.answers(POD_ANSWER).length, sent, 'every line sent was answered');
      t.deepEqual([...new Set(stream.answers(POD_ANSWER))], ['p2'], 'by the same endpoint');
    } finally {
      sender.stop();
      stream.stop();
    }
  });

  test.serial(`${mode}: a flushed proxy table on a node is repaired within one drift-check period`, async (t) => {
    const { lab } = ctx();
    const config = JSON.parse(readFileSync(nodeFiles(lab.paths, 'n1').agentConfig, 'utf8')) as { proxy: { syncPeriod?: string } };
    const syncPeriodMs = parseDuration(config.proxy.syncPeriod ?? '30s', 'syncPeriod');
    if (mode === 'nftables') {
      await lab.exec('n1', [tool('nft'), 'flush', 'table', 'ip', 'podnet-proxy']);
      const left = await lab.exec('n1', [tool('nft'), 'list', 'chain', 'ip', 'podnet-proxy', 'nat-prerouting'], { allowFailure: true });
      t.true(left.code === 0 && !/jump services/.test(left.stdout), `flushed: ${left.stdout}${left.stderr}`);
    } else {
      await lab.exec('n1', [tool('iptables'), '-t', 'nat', '-F']);
      t.notRegex((await lab.exec('n1', [tool('iptables-save'), '-t', 'nat'])).stdout, /-j PODNET-SERVICES/, 'flushed');
    }
    // One drift check (syncPeriod) plus a full sync: 5 s of slack for the sync on a loaded machine.
    const r = await waitFor('the ClusterIP answering again', async () => {
      const x = await curl(lab, 'p1', `http://${IP.multi}/hostname`);
      return /^p[123]$/.test(x.body) ? x : undefined;
    }, syncPeriodMs + 5_000);
    t.regex(r.body, /^p[123]$/);
  });
}
