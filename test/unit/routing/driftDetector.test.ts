/**
 * The drift detector: the echo of podnet's own change is ignored (so programming 1,000 nodes causes no re-read),
 * whatever contradicts the desired state is a reason to repair.
 */
import test from 'ava';
import type { Link, Neighbour, Route } from '../../../src/netlink/index.ts';
import { DriftDetector } from '../../../src/routing/driftDetector.ts';
import { planRouting } from '../../../src/routing/routingPlanner.ts';
import { local, VXLAN, vxlanPeer } from './helpers/routingFixtures.ts';

const desired = planRouting({ settings: VXLAN, local: local(), nodes: [vxlanPeer('n2', '198.18.0.12', '10.244.2.0/24', '02:00:00:00:00:02')] }).desired;

function detector(): DriftDetector {
  const d = new DriftDetector();
  d.setDesired(desired);
  d.setTunnelIndex(7);
  return d;
}
const link = (over: Partial<Link>): Link => ({ index: 7, name: 'podnet.1', kind: 'vxlan', flags: 0, up: true, lowerUp: true, operState: 'up', mtu: 1450, mac: undefined, master: undefined, parentIndex: undefined, linkNetnsId: undefined, attrs: {}, ...over });
const route = (over: Partial<Route>): Route => ({ family: 4, dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 7, table: 254, protocol: 157, scope: 'universe', type: 'unicast', priority: undefined, prefsrc: undefined, onlink: true, metrics: undefined, nexthops: undefined, attrs: {}, ...over });
const neigh = (over: Partial<Neighbour>): Neighbour => ({ index: 7, family: 4, address: '10.244.2.0', lladdr: '02:00:00:00:00:02', state: ['permanent'], flags: [], dst: undefined, vni: undefined, master: undefined, attrs: {}, ...over });

test('echoes of podnet\'s own changes are ignored', (t) => {
  const d = detector();
  t.is(d.link('new', link({})), undefined);
  t.is(d.route('new', route({})), undefined);
  t.is(d.neighbour('new', neigh({})), undefined);
  t.is(d.neighbour('new', neigh({ family: 'bridge', address: undefined, dst: '198.18.0.12' })), undefined);
  t.is(d.route('del', route({ dst: '10.244.9.0/24', gateway: '10.244.9.0' })), undefined, 'a route podnet removed on purpose');
  t.is(d.route('new', route({ dst: '192.0.2.0/24', protocol: 'boot' })), undefined, 'someone else\'s unrelated route');
  t.is(d.neighbour('new', neigh({ index: 2 })), undefined, 'neighbours on other links');
  t.is(d.neighbour('new', neigh({ address: '10.244.2.77', state: ['reachable'] })), undefined, 'the kernel\'s own, non-permanent entries');
});

test('contradictions of the desired state are reasons to repair', (t) => {
  const d = detector();
  t.regex(d.route('del', route({}))!, /route 10\.244\.2\.0\/24 was deleted/);
  t.regex(d.route('new', route({ protocol: 'boot', gateway: '198.18.0.1', onlink: false, dev: 2 }))!, /replaced by protocol boot/);
  t.regex(d.route('new', route({ gateway: '10.244.2.9' }))!, /was changed/);
  t.regex(d.route('new', route({ dst: '10.244.9.0/24' }))!, /unexpected podnet route/);
  t.regex(d.neighbour('del', neigh({ state: ['failed'] }))!, /neighbour 10\.244\.2\.0 was deleted/);
  t.regex(d.neighbour('new', neigh({ lladdr: '02:00:00:00:00:99' }))!, /unexpected neighbour/);
  t.regex(d.neighbour('del', neigh({ family: 'bridge', address: undefined, dst: '198.18.0.12' }))!, /FDB entry 02:00:00:00:00:02 was deleted/);
  t.regex(d.link('new', link({ up: false }))!, /is down/);
  t.regex(d.link('new', link({ mtu: 1500 }))!, /MTU 1500 instead of 1450/);
  t.regex(d.link('del', link({}))!, /podnet\.1 was deleted/);
  t.regex(d.link('new', link({ name: 'podnet.ipip', kind: 'ipip', index: 9 }))!, /unexpected device podnet\.ipip/);
});
