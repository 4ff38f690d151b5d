/**
 * End to end in the lab: `podnetd lb` on every lab node (started the way the lab starts daemons: inside the
 * node's namespace, on the lab's file store), MetalLB CRDs for the lab's L2 pool, a LoadBalancer Service; the
 * client namespace resolves the LB IP with arping and exactly one node's MAC answers (tcpdump in the client).
 * Fetching the Service with curl needs the proxy and pods in the lab, which the lab does not run yet.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab } from '../../helpers/labFixture.ts';
import { arpReplyMacs, startCapture } from '../../netns/lb/lbTopology.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { ingressIps } from '../../../src/lb/allocationStatus.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

test('a LoadBalancer Service in the lab: allocated from the CRD pool, exactly one node answers ARP for it', async (t) => {
  const lab = await startLab(t, { nodes: 3, routing: 'none' });
  const pool = lab.plan.cluster.l2Pool;
  writeFileSync(join(lab.storeDir, 'lb.yaml'), `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: metallb-system}
spec:
  addresses: ["${pool.first}-${pool.last}"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lab, namespace: metallb-system}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
`);
  for (const n of lab.nodes) {
    await lab.spawn(n.id, `lb-${n.id}`, [process.execPath, '--import=tsx', join(ROOT, 'cmd/podnetd/main.ts'), 'lb', '--store', `file:${lab.storeDir}`, '--node', n.id], { cwd: ROOT });
  }
  const store = await openStore(`file:${lab.storeDir}`);
  t.teardown(() => store.close());
  let ip: string | undefined;
  for (let i = 0; i < 150 && !ip; i++) {
    ip = ingressIps((await store.get('Service', 'web', 'default')) ?? { apiVersion: 'v1', kind: 'Service', metadata: { name: '' }, spec: {} })[0];
    if (!ip) await new Promise((r) => setTimeout(r, 200));
  }
  t.is(ip, pool.first);
  // Wait past the speakers' start-up grace, then ask.
  let macs: string[] = [];
  for (let i = 0; i < 10 && macs.length === 0; i++) {
    const cap = await startCapture(lab.client.ns, 'arp', 20);
    await lab.exec('client', ['timeout', '10', 'arping', '-c', '2', '-i', lab.client.interfaces[0]!.dev, ip!], { allowFailure: true });
    macs = arpReplyMacs(await cap.stop(), ip!);
  }
  t.is(macs.length, 1, `MACs that answered: ${macs.join(', ')}`);
  const owners = [];
  for (const n of lab.nodes) {
    const link = await lab.exec(n.id, ['ip', '-br', 'link', 'show', n.interfaces[0]!.dev]);
    if (link.stdout.includes(macs[0]!)) owners.push(n.id);
  }
  t.is(owners.length, 1);
});
