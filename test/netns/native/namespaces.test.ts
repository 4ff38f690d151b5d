// Files opened inside a namespace, named namespaces made like `ip netns add`, errors, TCP MD5 and ref/unref.
import test from 'ava';
import { execFile } from 'node:child_process';
import { closeSync, readdirSync, readlinkSync, readSync, statSync, writeSync, constants as fsc } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deleteNetns, ip, listNetns, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { AF_INET, AF_INET6, native, NETLINK_ROUTE, SOCK_STREAM } from '../../../src/native/index.ts';

const prefix = uniquePrefix('nx');
const root = rootSnapshot(prefix);
test.after.always('nothing left in the root namespace', (t) => t.deepEqual(root.leaks(), []));

function readAll(fd: number): string {
  const buf = Buffer.alloc(65536);
  let text = '';
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) text += buf.subarray(0, n).toString();
  return text;
}

function readInNetns(netns: string, path: string): string {
  const fd = native.openInNetns(netns.startsWith('/') ? netns : `/var/run/netns/${netns}`, path, fsc.O_RDONLY);
  try {
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}

const FORWARDING = '/proc/sys/net/ipv4/conf/all/forwarding';

test('openInNetns reads and writes a per-namespace sysctl, leaving the root one alone', (t) => {
  const ns = makeNetns(t, prefix, 'sysctl');
  const rootValue = readInNetns('/proc/self/ns/net', FORWARDING).trim();
  const other = rootValue === '1' ? '0' : '1';
  ip(['netns', 'exec', ns, 'sh', '-c', `echo ${other} > ${FORWARDING}`]);
  t.is(readInNetns(ns, FORWARDING).trim(), other);

  const fd = native.openInNetns(`/var/run/netns/${ns}`, FORWARDING, fsc.O_WRONLY);
  writeSync(fd, rootValue);
  closeSync(fd);
  t.is(ip(['netns', 'exec', ns, 'cat', FORWARDING]).trim(), rootValue);
  t.is(readInNetns('/proc/self/ns/net', FORWARDING).trim(), rootValue);
});

test('netnsAdd and netnsDelete agree with ip netns', (t) => {
  const name = `${prefix}-made`;
  t.teardown(() => deleteNetns(name));
  native.netnsAdd(name);
  t.true(listNetns().includes(name));
  t.not(statSync(`/var/run/netns/${name}`).ino, statSync('/proc/self/ns/net').ino);
  t.deepEqual(ip(['-n', name, '-o', 'link', 'show']).trim().split('\n').map((l) => l.split(': ')[1]), ['lo']);
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${name}` });
  native.close(fd);

  const again = t.throws(() => native.netnsAdd(name));
  t.like(again, { code: 'EEXIST', syscall: 'open' });
  native.netnsDelete(name);
  t.false(listNetns().includes(name));
  const gone = t.throws(() => native.netnsDelete(name));
  t.like(gone, { code: 'ENOENT', errno: 2, syscall: 'unlink' });
  t.regex(gone!.message, new RegExp(`deleting netns /var/run/netns/${name}: ENOENT`));
});

test('a namespace made by ip netns add can be deleted by netnsDelete', (t) => {
  const ns = makeNetns(t, prefix, 'byip');
  native.netnsDelete(ns);
  t.false(listNetns().includes(ns));
});

test('errors carry code, errno, syscall and what was being done', (t) => {
  const missing = `/var/run/netns/${prefix}-missing`;
  const e1 = t.throws(() => native.openNetlink({ protocol: NETLINK_ROUTE, netns: missing }));
  t.like(e1, { code: 'ENOENT', errno: 2, syscall: 'open' });
  t.true(e1!.message.startsWith(`opening netlink socket in ${missing}: ENOENT`));

  const notNetns = t.throws(() => native.openIcmp6({ netns: '/proc/self/ns/uts' }));
  t.like(notNetns, { code: 'EINVAL', syscall: 'setns' });

  const ns = makeNetns(t, prefix, 'errs');
  const noDev = t.throws(() => native.openPacket({ netns: `/var/run/netns/${ns}`, ifindex: 4242, protocol: 0x0806 }));
  t.like(noDev, { code: 'ENODEV', syscall: 'bind' });
  t.regex(noDev!.message, /binding packet socket to ifindex 4242 in .*: ENODEV/);
  const noFile = t.throws(() => native.openInNetns(`/var/run/netns/${ns}`, '/proc/sys/net/nope', fsc.O_RDONLY));
  t.like(noFile, { code: 'ENOENT', syscall: 'open' });
});

test('bad arguments throw TypeErrors, never crash', (t) => {
  const bad: Array<() => unknown> = [
    () => Reflect.apply(native.openNetlink, native, []),
    () => native.openNetlink({ protocol: -1 }),
    () => native.openNetlink({ protocol: 0, netns: {} as unknown as string }),
    () => native.openPacket({ ifindex: 0, protocol: 0x0806 }),
    () => native.openIcmp6({ device: 'a-name-much-too-long-for-linux' }),
    () => native.send(1.5, new Uint8Array(1)),
    () => native.send(0, 'text' as unknown as Uint8Array),
    () => native.startReading(0, 'nope' as unknown as () => void),
    () => native.netnsAdd('a/b'),
    () => native.netnsDelete('..'),
    () => native.setTcpMd5(0, new Uint8Array(5), new Uint8Array(1)),
    () => native.setTcpMd5(0, new Uint8Array(4), new Uint8Array(81)),
    () => native.openInNetns(`/x`, 'a\0b', 0),
  ];
  for (const call of bad) t.throws(call, { instanceOf: TypeError });
});

test('closing twice is harmless, and stopReading of an fd that is not read is a no-op', (t) => {
  const ns = makeNetns(t, prefix, 'close');
  const fd = native.openNetlink({ protocol: NETLINK_ROUTE, netns: `/var/run/netns/${ns}` });
  native.startReading(fd, () => undefined);
  native.close(fd);
  t.notThrows(() => native.close(fd));
  t.notThrows(() => native.stopReading(fd));
  t.throws(() => native.netlinkPortId(fd), { code: 'EBADF' });
});

function netstat(ns: string, field: string): number {
  // /proc/net is the process's main thread's view; thread-self is the opening thread, which is in `ns`.
  const [names, values] = readInNetns(ns, '/proc/thread-self/net/netstat').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const index = names!.split(' ').indexOf(field);
  return Number(values!.split(' ')[index]);
}

test('setTcpMd5 signs a loopback TCP connection inside a namespace', async (t) => {
  const ns = makeNetns(t, prefix, 'md5');
  const netns = `/var/run/netns/${ns}`;
  const key = new TextEncoder().encode('podnet-bgp-secret');
  const loopback = Uint8Array.of(127, 0, 0, 1);
  const listenFd = native.openSocket({ netns, domain: AF_INET, type: SOCK_STREAM });
  native.setTcpMd5(listenFd, loopback, key);
  const server = net.createServer((s) => s.end('signed'));
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen({ fd: listenFd }, resolve));
  const { port } = server.address() as net.AddressInfo;

  const signed = native.openSocket({ netns, domain: AF_INET, type: SOCK_STREAM });
  native.setTcpMd5(signed, loopback, key);
  const answer = await new Promise<string>((resolve, reject) => {
    const s = new net.Socket({ fd: signed });
    let text = '';
    s.on('data', (d) => (text += d)).on('end', () => resolve(text)).on('error', reject);
    s.connect(port, '127.0.0.1');
  });
  t.is(answer, 'signed');

  // An unsigned SYN to the keyed listener is dropped, and the kernel counts it.
  const before = netstat(ns, 'TCPMD5NotFound');
  const unsigned = new net.Socket({ fd: native.openSocket({ netns, domain: AF_INET, type: SOCK_STREAM }) });
  t.teardown(() => unsigned.destroy());
  unsigned.on('error', () => undefined).connect(port, '127.0.0.1');
  for (let i = 0; i < 200 && netstat(ns, 'TCPMD5NotFound') === before; i++) await new Promise((r) => setTimeout(r, 25));
  t.true(netstat(ns, 'TCPMD5NotFound') > before);

  const v6 = native.openSocket({ netns, domain: AF_INET6, type: SOCK_STREAM });
  t.teardown(() => native.close(v6));
  t.notThrows(() => native.setTcpMd5(v6, new Uint8Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0)), key));
  t.notThrows(() => native.setTcpMd5(v6, loopback, key));
});

const ADDON = fileURLToPath(new URL('../../../build/Release/podnet_native.node', import.meta.url));

test('an unref-ed reading socket does not keep the process alive', async (t) => {
  const ns = makeNetns(t, prefix, 'unref');
  const script = `
    const n = require(${JSON.stringify(ADDON)});
    const netns = ${JSON.stringify(`/var/run/netns/${ns}`)};
    const fd = n.openNetlink({ protocol: 0, groups: 1, netns });
    n.setRef(fd, false);
    n.startReading(fd, () => {});
    const fd2 = n.openNetlink({ protocol: 0, groups: 1, netns });
    n.startReading(fd2, () => {});
    n.setRef(fd2, false);
    console.log('reading');`;
  // A failure here is the 60 s timeout killing a process that would not exit on its own.
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  t.is(out.trim(), 'reading');
});

test('an exception thrown by a receive callback is an uncaught exception of the process, not lost', async (t) => {
  const ns = makeNetns(t, prefix, 'throw');
  const script = `
    const n = require(${JSON.stringify(ADDON)});
    const fd = n.openNetlink({ protocol: 0, netns: ${JSON.stringify(`/var/run/netns/${ns}`)} });
    process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); n.close(fd); });
    n.startReading(fd, () => { throw new Error('boom'); });
    const req = new Uint8Array(32);
    new DataView(req.buffer).setUint32(0, 32, true);
    new DataView(req.buffer).setUint16(4, 18, true); // RTM_GETLINK
    new DataView(req.buffer).setUint16(6, 0x301, true); // REQUEST | DUMP
    n.send(fd, req);`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  t.is(out.trim(), 'uncaught: boom');
});

test('a worker thread that ends while reading leaves no socket open behind it', async (t) => {
  const ns = makeNetns(t, prefix, 'worker');
  // Other test files share this process, so compare socket identities (inodes), not fd counts.
  const openTargets = () => new Set(readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  }));
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const n = require(${JSON.stringify(ADDON)});
     const fds = [];
     for (let i = 0; i < 4; i++) {
       fds.push(n.openNetlink({ protocol: 0, groups: 1, netns: ${JSON.stringify(`/var/run/netns/${ns}`)} }));
       n.startReading(fds[i], () => {});
     }
     parentPort.postMessage(fds);`,
    { eval: true },
  );
  const fds = await new Promise<number[]>((resolve) => worker.once('message', resolve));
  const sockets = fds.map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
  t.true(sockets.every((s) => s.startsWith('socket:')));
  await worker.terminate();
  const stillOpen = openTargets();
  t.deepEqual(sockets.filter((s) => stillOpen.has(s)), []);
});
