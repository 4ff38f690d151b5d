/**
 * podnetd route with pods wired by the real podnet CNI plugin (exec'd in the node's namespace, as the lab kubelet
 * will): each node's state file starts with what node registration writes (pod CIDR, cluster CIDR), podnetd
 * merges the pod MTU into it, and the plugin gives pods that MTU. Pods on different nodes then reach each other
 * over podnet.1 with full-size packets. (Node registration itself — src/node — and the lab kubelet are other
 * issues; the test plays their part by writing Node objects and the state file, and calling the plugin.)
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost } from '../../../src/lab/lab.ts';
import { labStateRoot, startLab } from '../../helpers/labFixture.ts';
import { ip } from '../../helpers/netnsFixture.ts';
import { pluginBinDir } from '../../netns/cni/helpers/cniFixture.ts';
import { nodeObject, waitFor } from '../../netns/routing/helpers/routingCluster.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function cniAdd(nodeNs: string, bin: string, podNs: string, id: string, conf: object): Promise<{ code: number; out: string }> {
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${podNs}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=${id}` };
  return new Promise((res) => {
    const child = execFile('/usr/sbin/ip', ['netns', 'exec', nodeNs, bin], { env, encoding: 'utf8' }, (err, stdout) => res({ code: err ? 1 : 0, out: stdout }));
    child.stdin!.end(JSON.stringify(conf));
  });
}

function startRoute(lab: Lab, h: LabHost, stateFile: string) {
  return lab.spawn(h.id, `route-${h.id}`, [process.execPath, '--import=tsx', join(REPO, 'cmd', 'podnetd', 'main.ts'), 'route',
    '--store', `file:${lab.storeDir}`, '--node', h.id, '--node-state', stateFile], { cwd: REPO });
}

test.serial('pods wired by the CNI get podnetd\'s MTU and reach pods on other nodes', async (t) => {
  const lab = await startLab(t, { nodes: 3, routing: 'vxlan' });
  const state = labStateRoot(t);
  const bin = join(await pluginBinDir(), 'podnet');
  const pods: Array<{ ns: string; ip: string }> = [];
  for (const [k, h] of lab.nodes.entries()) {
    const file = join(state, h.id, 'node.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ nodeName: h.id, podCIDRs: [`10.244.${k + 1}.0/24`], clusterCIDRs: ['10.244.0.0/16'] }));
    writeFileSync(join(lab.storeDir, `node-${h.id}.json`), JSON.stringify(nodeObject(h, k + 1)));
    await startRoute(lab, h, file);
  }
  for (const [k, h] of lab.nodes.entries()) {
    const file = join(state, h.id, 'node.json');
    t.not(await waitFor(() => JSON.parse(readFileSync(file, 'utf8')).mtu === 1450, 30_000, 100), -1, `${h.id}: podnetd wrote the MTU`);
    t.deepEqual(JSON.parse(readFileSync(file, 'utf8')).podCIDRs, [`10.244.${k + 1}.0/24`], 'the other fields are kept');
    const podNs = `${lab.name}-pod-${h.id}`;
    ip(['netns', 'add', podNs]);
    const conf = { cniVersion: '1.1.0', name: 'podnet', type: 'podnet', nodeStateFile: file,
      ipam: { type: 'podnet-ipam', dataDir: join(state, h.id, 'leases'), nodeStateFile: file, ranges: [[{ subnet: 'usePodCidr' }]] } };
    const r = await cniAdd(h.ns, bin, podNs, `pod-${h.id}`, conf);
    t.is(r.code, 0, r.out);
    const result = JSON.parse(r.out) as { ips: Array<{ address: string }>; interfaces: Array<{ name: string; mtu?: number; sandbox?: string }> };
    pods.push({ ns: podNs, ip: result.ips[0]!.address.split('/')[0]! });
    const mtu = JSON.parse((await lab.exec(podNs, ['ip', '-j', 'link', 'show', 'eth0'])).stdout)[0].mtu as number;
    t.is(mtu, 1450, `${h.id}: the pod's eth0 has the MTU podnetd computed`);
  }
  const failures: string[] = [];
  const reachable = await waitFor(async () => {
    failures.length = 0;
    for (const a of pods) for (const b of pods) {
      if (a !== b && (await lab.exec(a.ns, ['ping', '-c1', '-W1', '-M', 'do', '-s', '1422', b.ip], { allowFailure: true })).code !== 0) failures.push(`${a.ip}→${b.ip}`);
    }
    return failures.length === 0;
  }, 30_000, 200);
  t.not(reachable, -1, `failing: ${failures.join(', ')}`);
});
