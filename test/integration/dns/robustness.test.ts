/**
 * Hostile and slow clients: malformed datagrams, oversized and partial TCP frames, idle connections holding every
 * TCP slot, pipelined queries. The server must keep answering everyone else.
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { startFedServer, type FedServer } from './helpers/dnsServerFixture.ts';
import { clusterIpService, namespace } from '../../unit/dns/helpers/dnsObjects.ts';

const objects = () => [namespace('default'), clusterIpService('default', 'web', ['10.96.0.20'])];
const limits = { tcpIdleMs: 400, maxTcpConnections: 6, maxInFlightPerConnection: 4 };

function query(id: number, name = 'web.default.svc.cluster.local'): Buffer {
  return Buffer.from(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }));
}

function frame(msg: Buffer): Buffer {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length, 0);
  msg.copy(f, 2);
  return f;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves with the decoded responses once `count` have arrived, or when the server closes the connection. */
function readResponses(sock: Socket, count: number): Promise<{ ids: number[]; closed: boolean }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const ids: number[] = [];
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        ids.push(buf.readUInt16BE(2));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (ids.length >= count) resolve({ ids, closed: false });
    });
    sock.on('close', () => resolve({ ids, closed: true }));
  });
}

async function stillAnswers(t: import('ava').ExecutionContext, s: FedServer, tcp = false): Promise<void> {
  t.deepEqual(await s.short('web.default.svc.cluster.local', 'A', tcp ? ['+tcp'] : []), ['10.96.0.20']);
}

test('malformed datagrams get FORMERR or nothing, and the server keeps answering', async (t) => {
  const s = await startFedServer(t, objects(), { limits });
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  const bad = [
    Buffer.from([1, 2, 3]),
    Buffer.from([0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), // pointer to itself
    Buffer.from([0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 1]), // huge counts
    Buffer.from([0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 97]), // label past the end
  ];
  for (const b of bad) sock.send(b, s.port, '127.0.0.1');
  await stillAnswers(t, s);
  t.true(replies.length >= 3 && replies.every((r) => (r[3]! & 0xf) === 1), 'FORMERR for parseable headers');
});

test('pipelined TCP queries, more than the per-connection in-flight cap, are all answered', async (t) => {
  // Not the 400 ms idle timeout: on a loaded machine (or beside the churn test) a pause between two reads of the
  // pipeline can pass it, and this test is about the in-flight cap, not idleness.
  const s = await startFedServer(t, objects(), { limits: { ...limits, tcpIdleMs: 5000 } });
  const sock = await open(s.port);
  t.teardown(() => sock.destroy());
  const got = readResponses(sock, 20);
  sock.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => frame(query(i + 1)))));
  const r = await got;
  t.deepEqual(r.ids.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
});

test('oversized, partial and zero-length TCP frames never crash the server', async (t) => {
  const s = await startFedServer(t, objects(), { limits });
  const big = await open(s.port);
  const bigDone = readResponses(big, 1);
  big.write(frame(Buffer.alloc(65535, 0xc0))); // a 64 KiB message of pointer bytes
  const partial = await open(s.port);
  const partialDone = readResponses(partial, 1);
  partial.write(Buffer.from([0xff, 0xff, 1, 2, 3])); // announces 65535 bytes, sends 3, then goes quiet
  const zero = await open(s.port);
  const zeroDone = readResponses(zero, 1);
  zero.write(Buffer.from([0, 0]));
  t.true((await zeroDone).closed, 'zero-length frame closes the connection');
  t.true((await partialDone).closed, 'idle timeout closes a half-sent frame');
  big.destroy();
  await bigDone;
  await stillAnswers(t, s, true);
});

test('idle clients holding every TCP slot are timed out; UDP is unaffected meanwhile', async (t) => {
  // A longer idle timeout than the other tests: the slots must still be held after a dig on a loaded machine.
  const s = await startFedServer(t, objects(), { limits: { ...limits, tcpIdleMs: 2000 } });
  const idle = await Promise.all(Array.from({ length: limits.maxTcpConnections }, () => open(s.port)));
  const closed = idle.map((c) => new Promise<void>((resolve) => c.on('close', () => resolve())));
  await stillAnswers(t, s);
  const extra = await open(s.port);
  const extraResult = readResponses(extra, 1);
  extra.write(frame(query(77)));
  const r = await extraResult;
  t.true(r.closed && r.ids.length === 0, 'over the connection cap: refused');
  await Promise.all(closed);
  await stillAnswers(t, s, true);
});
