import test from 'ava';
import { execFileSync } from 'node:child_process';
import { enforceStrictArp } from '../../../src/lb/strictArp.ts';
import { makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { findTool } from '../../../src/common/systemTools.ts';

const prefix = uniquePrefix('ls');
const snapshot = rootSnapshot(prefix);
test.after.always('root namespace untouched', (t) => t.deepEqual(snapshot.leaks(), []));

const sysctl = (ns: string, key: string) => execFileSync(findTool('ip')!, ['netns', 'exec', ns, 'cat', `/proc/sys/net/ipv4/conf/all/${key}`], { encoding: 'utf8' }).trim();

test('IPVS mode: strict ARP is set inside the node namespace only, and a second run changes nothing', (t) => {
  const ns = makeNetns(t, prefix, 'node');
  const rootBefore = [execFileSync('cat', ['/proc/sys/net/ipv4/conf/all/arp_ignore'], { encoding: 'utf8' }).trim()];
  t.deepEqual([sysctl(ns, 'arp_ignore'), sysctl(ns, 'arp_announce')], ['0', '0']);
  t.deepEqual(enforceStrictArp(`/var/run/netns/${ns}`), ['net.ipv4.conf.all.arp_ignore: 0 → 1', 'net.ipv4.conf.all.arp_announce: 0 → 2']);
  t.deepEqual([sysctl(ns, 'arp_ignore'), sysctl(ns, 'arp_announce')], ['1', '2']);
  t.deepEqual(enforceStrictArp(`/var/run/netns/${ns}`), []);
  t.deepEqual([execFileSync('cat', ['/proc/sys/net/ipv4/conf/all/arp_ignore'], { encoding: 'utf8' }).trim()], rootBefore);
});
