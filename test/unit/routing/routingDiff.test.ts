/**
 * The diff: what the applier sends for a given kernel state. Matching state → nothing (a restart adopts);
 * neighbours and FDB entries in a phase before the routes; a peer's changed MAC replaces its entries.
 */
import test from 'ava';
import { diffRouting, type KernelState, type RoutingOp } from '../../../src/routing/routingDiff.ts';
import { planRouting } from '../../../src/routing/routingPlanner.ts';
import type { DesiredState } from '../../../src/routing/routingModel.ts';
import { local, VXLAN, vxlanPeer } from './helpers/routingFixtures.ts';

const peers = [vxlanPeer('n2', '198.18.0.12', '10.244.2.0/24', '02:00:00:00:00:02'), vxlanPeer('n3', '198.18.0.13', '10.244.3.0/24', '02:00:00:00:00:03')];
const desired = (): DesiredState => planRouting({ settings: VXLAN, local: local(), nodes: peers }).desired;

/** The kernel exactly as a previous run left it. */
function programmed(d: DesiredState, index = 7): KernelState {
  const l = d.link!;
  return {
    links: [{ name: l.name, index, kind: 'vxlan', up: true, mtu: l.mtu, mac: l.kind === 'vxlan' ? l.mac : undefined, vni: 1, port: 8472, local: l.local, uplinkIndex: 2, learning: false }],
    addresses: [...d.addresses], neighbours: [...d.neighbours], fdb: [...d.fdb],
    routes: d.routes.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: index, onlink: true })),
  };
}
const names = (phases: RoutingOp[][]) => phases.map((p) => p.map((o) => o.op));

test('an empty kernel: device, then address, then neighbours + FDB, then routes', (t) => {
  const phases = diffRouting(desired(), { links: [], addresses: [], neighbours: [], fdb: [], routes: [] });
  t.deepEqual(names(phases), [
    ['createLink'], ['addAddress'],
    ['replaceFdb', 'replaceFdb', 'replaceNeighbour', 'replaceNeighbour'],
    ['replaceRoute', 'replaceRoute'],
  ]);
});

test('a kernel that already matches (restart): no operation at all', (t) => {
  t.deepEqual(diffRouting(desired(), programmed(desired())), []);
});

test('a node left: its route goes first, then its neighbour and FDB entry', (t) => {
  const before = programmed(desired());
  const after = planRouting({ settings: VXLAN, local: local(), nodes: [peers[0]!] }).desired;
  const phases = diffRouting(after, before);
  t.deepEqual(names(phases), [['deleteRoute'], ['deleteNeighbour', 'deleteFdb']]);
  t.deepEqual(phases[0]![0], { op: 'deleteRoute', route: { dst: '10.244.3.0/24', gateway: '10.244.3.0', dev: 7, onlink: true } });
});

test('a peer\'s VTEP MAC changed: new FDB entry and neighbour, old FDB entry removed, route untouched', (t) => {
  const before = programmed(desired());
  const moved = [peers[0]!, vxlanPeer('n3', '198.18.0.13', '10.244.3.0/24', '02:00:00:00:00:33')];
  const phases = diffRouting(planRouting({ settings: VXLAN, local: local(), nodes: moved }).desired, before);
  t.deepEqual(phases, [
    [{ op: 'replaceFdb', fdb: { lladdr: '02:00:00:00:00:33', dst: '198.18.0.13' } }, { op: 'replaceNeighbour', neighbour: { address: '10.244.3.0', lladdr: '02:00:00:00:00:33' } }],
    [{ op: 'deleteFdb', fdb: { lladdr: '02:00:00:00:00:03', dst: '198.18.0.13' } }],
  ]);
});

test('a device with another VNI is re-created and everything on it re-added', (t) => {
  const before = programmed(desired());
  before.links[0]!.vni = 2;
  const phases = diffRouting(desired(), before);
  t.deepEqual(names(phases), [['deleteLink'], ['createLink'], ['addAddress'], ['replaceFdb', 'replaceFdb', 'replaceNeighbour', 'replaceNeighbour'], ['replaceRoute', 'replaceRoute']]);
});

test('a device that is down or has another MTU is changed in place', (t) => {
  const before = programmed(desired());
  before.links[0]!.up = false;
  before.links[0]!.mtu = 1500;
  t.deepEqual(diffRouting(desired(), before), [[{ op: 'setLink', name: 'podnet.1', mtu: 1450, up: true }]]);
});

test('a deleted route is re-added, nothing else', (t) => {
  const before = programmed(desired());
  before.routes.pop();
  t.deepEqual(names(diffRouting(desired(), before)), [['replaceRoute']]);
});

test('switching to host-gw removes podnet.1 and turns tunnel routes into direct ones', (t) => {
  const before = programmed(desired());
  const gw = planRouting({ settings: { ...VXLAN, backend: 'host-gw' }, local: local(), nodes: peers.map((p) => ({ ...p, metadata: { ...p.metadata, annotations: { 'podnet.io/backend': 'host-gw' } } })) }).desired;
  const phases = diffRouting(gw, before);
  t.deepEqual(names(phases), [['deleteLink'], ['replaceRoute', 'replaceRoute']]);
  t.deepEqual(phases[1]![0], { op: 'replaceRoute', route: { dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 2, onlink: false } });
});

test('an empty desired state removes everything podnet owns', (t) => {
  const state = programmed(desired());
  state.routes.push({ dst: '10.244.9.0/24', gateway: '198.18.0.19', dev: 2, onlink: false });
  const phases = diffRouting({ link: undefined, addresses: [], neighbours: [], fdb: [], routes: [] }, state);
  // Routes, neighbours and FDB entries on podnet.1 go with the device; the direct route is deleted by itself.
  t.deepEqual(phases, [[{ op: 'deleteRoute', route: { dst: '10.244.9.0/24', gateway: '198.18.0.19', dev: 2, onlink: false } }], [{ op: 'deleteLink', name: 'podnet.1', index: 7 }]]);
});
