/**
 * podnet in the lab: pods wired by the real, installed plugin exec'd in a lab node's namespace (what the lab
 * kubelet will do), reaching each other, their node, and — masqueraded — the lab's client, whose test server
 * reports the source address it sees. Cross-node traffic needs podnetd's routing and is not tested here.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, labStateRoot } from '../../helpers/labFixture.ts';
import { ip } from '../../helpers/netnsFixture.ts';
import { podnetctlCommand } from '../../../src/lab/lab.ts';
import { pluginBinDir } from '../../netns/cni/helpers/cniFixture.ts';

function cni(node: string, bin: string, env: Record<string, string>, config: object): Promise<{ code: number; json: Record<string, unknown> | null }> {
  return new Promise((resolve) => {
    const child = execFile('/usr/sbin/ip', ['netns', 'exec', node, bin], { env, encoding: 'utf8' }, (err, stdout) => {
      resolve({ code: err ? 1 : 0, json: stdout.trim() ? JSON.parse(stdout) as Record<string, unknown> : null });
    });
    child.stdin!.end(JSON.stringify(config));
  });
}

test('pods on a lab node reach each other, the node and (masqueraded) the client', async (t) => {
  const lab = await startLab(t, { nodes: 2, routing: 'none' });
  const node = lab.nodes[0]!;
  const bin = join(await pluginBinDir(), 'podnet');
  const state = labStateRoot(t);
  const nodeState = join(state, 'node.json');
  writeFileSync(nodeState, JSON.stringify({ nodeName: node.id, podCIDRs: ['10.244.1.0/24'], clusterCIDRs: ['10.244.0.0/16'], mtu: 1450 }));
  const conf = { cniVersion: '1.1.0', name: 'podnet', type: 'podnet', ipMasq: true, nodeStateFile: nodeState,
    ipam: { type: 'podnet-ipam', dataDir: join(state, 'leases'), nodeStateFile: nodeState, ranges: [[{ subnet: 'usePodCidr' }]] } };
  const pods = ['a', 'b'].map((p) => `${lab.name}-pod-${p}`);
  for (const ns of pods) {
    ip(['netns', 'add', ns]);
    t.teardown(() => { try { ip(['netns', 'del', ns]); } catch { /* lab down swept it */ } });
  }
  const env = (id: string, ns: string, command = 'ADD') => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`,
    CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${id}` });
  const added = await Promise.all(pods.map((ns, i) => cni(node.ns, bin, env(`pod${i}`, ns), conf)));
  t.deepEqual(added.map((a) => a.code), [0, 0], JSON.stringify(added));
  const [ipA, ipB] = added.map((a) => (a.json!.ips as Array<{ address: string }>)[0]!.address.split('/')[0]!);
  t.is((await lab.exec(pods[0]!, ['ping', '-c1', '-W2', ipB!], { allowFailure: true })).code, 0, 'pod a → pod b');
  t.is((await lab.exec(pods[1]!, ['ping', '-c1', '-W2', '198.18.0.11'], { allowFailure: true })).code, 0, 'pod b → its node');
  const ctl = podnetctlCommand();
  await lab.spawn('client', 'cni-serve', [...ctl.argv, 'lab', 'serve', '--http', '18080', '--udp', '18081', '--tcp', '18082', '--name', 'client'], { cwd: ctl.cwd });
  let seen = '';
  for (let i = 0; i < 50 && !seen.includes(':'); i++) {
    const r = await lab.exec(pods[0]!, ['socat', '-T2', '-', 'TCP:198.18.0.2:18080'], { allowFailure: true, input: 'GET /clientip HTTP/1.0\r\n\r\n' });
    seen = r.stdout.split('\r\n\r\n')[1]?.trim() ?? '';
    if (!seen.includes(':')) await new Promise((r2) => setTimeout(r2, 200));
  }
  t.regex(seen, /^198\.18\.0\.11:\d+$/, `the client sees the node's address, not ${ipA}`);
  for (const [i, ns] of pods.entries()) t.is((await cni(node.ns, bin, env(`pod${i}`, ns, 'DEL'), conf)).code, 0);
  t.deepEqual((await lab.exec(node.ns, ['ip', '-j', 'link', 'show'])).stdout.match(/"pn[0-9a-f]{11}"/g), null, 'no host veth left');
});
