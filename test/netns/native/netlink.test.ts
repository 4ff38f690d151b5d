// Netlink sockets opened by the addon inside namespaces the test makes, checked against `ip -j`.
import test from 'ava';
import { statSync } from 'node:fs';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { native, NETLINK_ROUTE, SO_RCVBUF, SOL_SOCKET } from '../../../src/native/index.ts';
import {
  errorOf, linkDumpRequest, linkName, newLinkOfUnknownKind, nextMessage, NLMSG_DONE, NLMSG_ERROR, request,
  RTM_NEWLINK, RTMGRP_LINK, RTNLGRP_LINK, splitMessages, type NlMsg,
} from './helpers/rtnlBytes.ts';

const prefix = uniquePrefix('nn');
const root = rootSnapshot(prefix);
test.after.always('nothing left in the root namespace', (t) => t.deepEqual(root.leaks(), []));

const nsInode = (path: string) => statSync(path).ino;

test('a netlink socket opened in a namespace sees only that namespace, and the thread stays where it was', async (t) => {
  const ns = makeNetns(t, prefix, 'dump');
  ip(['-n', ns, 'link', 'add', `${prefix}a`, 'type', 'veth', 'peer', 'name', `${prefix}b`]);
  const threadBefore = nsInode('/proc/thread-self/ns/net');
  const processBefore = nsInode('/proc/self/ns/net');

  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  t.teardown(() => native.close(fd));
  t.is(nsInode('/proc/thread-self/ns/net'), threadBefore);
  t.is(nsInode('/proc/self/ns/net'), processBefore);

  const replies = await request(fd, linkDumpRequest(7), 7);
  t.is(replies.at(-1)?.type, NLMSG_DONE);
  const names = replies.filter((m) => m.type === RTM_NEWLINK).map(linkName).sort();
  const expected = ipJsonIn<Array<{ ifname: string }>>(ns, ['link', 'show']).map((l) => l.ifname).sort();
  t.deepEqual(names, expected);
  t.deepEqual(names, ['lo', `${prefix}a`, `${prefix}b`].sort());
  t.is(nsInode('/proc/thread-self/ns/net'), threadBefore);
});

test('the kernel addresses replies to the port id the socket reports', async (t) => {
  const ns = makeNetns(t, prefix, 'port');
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  t.teardown(() => native.close(fd));
  const portId = native.netlinkPortId(fd);
  t.true(portId > 0);
  const replies = await request(fd, linkDumpRequest(9), 9);
  t.true(replies.every((m) => m.pid === portId));
});

test('a namespace given as an open fd works like its path', async (t) => {
  const ns = makeNetns(t, prefix, 'byfd');
  ip(['-n', ns, 'link', 'add', `${prefix}f`, 'type', 'veth', 'peer', 'name', `${prefix}g`]);
  const { openSync, closeSync } = await import('node:fs');
  const nsFd = openSync(`/var/run/netns/${ns}`, 'r');
  t.teardown(() => closeSync(nsFd));
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: nsFd });
  t.teardown(() => native.close(fd));
  const names = (await request(fd, linkDumpRequest(3), 3)).filter((m) => m.type === RTM_NEWLINK).map(linkName);
  t.deepEqual(names.sort(), ['lo', `${prefix}f`, `${prefix}g`].sort());
});

test('multicast link events arrive asynchronously, through bind groups and through addMembership', async (t) => {
  const ns = makeNetns(t, prefix, 'events');
  const byBind = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}`, groups: RTMGRP_LINK, rcvbuf: 1 << 20 });
  const byJoin = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  t.teardown(() => native.close(byBind));
  t.teardown(() => native.close(byJoin));
  native.addMembership(byJoin, RTNLGRP_LINK);
  const name = `${prefix}e`;
  const isOurs = (m: { type: number; payload: Uint8Array }) => m.type === RTM_NEWLINK && linkName({ ...m, flags: 0, seq: 0, pid: 0 }) === name;
  const events = Promise.all([nextMessage(byBind, isOurs), nextMessage(byJoin, isOurs)]);
  ip(['-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${prefix}p`]);
  const [a, b] = await events;
  t.is(linkName(a), name);
  t.is(linkName(b), name);
  t.is(a.pid, 0, 'events come from the kernel');
});

test('kernel error messages come back as extended ACKs', async (t) => {
  const ns = makeNetns(t, prefix, 'extack');
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  t.teardown(() => native.close(fd));
  const [reply] = await request(fd, newLinkOfUnknownKind(11, `${prefix}x`, 'nosuchkind'), 11);
  t.is(reply?.type, NLMSG_ERROR);
  const { errno, extAck } = errorOf(reply!);
  t.true(errno < 0);
  t.log(`kernel said: ${extAck}`);
  t.truthy(extAck, 'the kernel attached a message');
});

test('after dropMembership a socket no longer receives the group', async (t) => {
  const ns = makeNetns(t, prefix, 'drop');
  const dropped = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  const kept = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  t.teardown(() => native.close(dropped));
  t.teardown(() => native.close(kept));
  native.addMembership(dropped, RTNLGRP_LINK);
  native.addMembership(kept, RTNLGRP_LINK);
  native.dropMembership(dropped, RTNLGRP_LINK);
  const event = nextMessage(kept, (m) => m.type === RTM_NEWLINK);
  ip(['-n', ns, 'link', 'add', `${prefix}d`, 'type', 'veth', 'peer', 'name', `${prefix}q`]);
  await event;
  // The kernel queues an event to every member before it acks `ip`; so anything queued on the dropped socket
  // arrives ahead of this dump's replies.
  const queuedBefore: NlMsg[] = [];
  const replies = await request(dropped, linkDumpRequest(5), 5, queuedBefore);
  t.true(replies.length > 0);
  t.deepEqual(queuedBefore, []);
});

test('an overrun event socket reports ENOBUFS and keeps delivering afterwards', async (t) => {
  const ns = makeNetns(t, prefix, 'overrun');
  // The smallest receive buffer the kernel allows holds only a few link events.
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}`, groups: RTMGRP_LINK, rcvbuf: 1 });
  t.teardown(() => native.close(fd));
  const batch = Array.from({ length: 16 }, (_, i) => `link add ${prefix}o${i} type veth peer name ${prefix}r${i}`);
  ip(['-n', ns, '-batch', '-'], `${batch.join('\n')}\n`);

  const errors: string[] = [];
  const last = `${prefix}z`;
  let overrun!: () => void;
  const overrunSeen = new Promise<void>((resolve) => (overrun = resolve));
  const seenLast = new Promise<void>((resolve) => {
    native.startReading(fd, (err, data) => {
      if (err) {
        errors.push(err.code);
        if (err.code === 'ENOBUFS') overrun();
        return;
      }
      if (splitMessages(data!).some((m) => m.type === RTM_NEWLINK && linkName(m) === last)) resolve();
    });
  });
  await overrunSeen;
  // The kernel drops events while the socket is congested, i.e. until its queue has been read empty; the reader
  // drains the little that fits in this buffer within the current wake, so go on after it.
  await new Promise((resolve) => setImmediate(resolve));
  // Events after the overrun still arrive: the error did not stop the reader. (A roomier buffer now, so the
  // next event cannot overrun it again.)
  native.setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, 1 << 20);
  ip(['-n', ns, 'link', 'add', last, 'type', 'veth', 'peer', 'name', `${prefix}y`]);
  await seenLast;
  t.deepEqual(errors, ['ENOBUFS']);
});
