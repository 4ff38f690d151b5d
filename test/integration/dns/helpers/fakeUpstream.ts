/**
 * A tiny upstream resolver for forwarding tests: UDP and TCP on 127.0.0.1, answers `example.org` / `*.example.org`
 * A with 192.0.2.1 (TTL 60) and NXDOMAIN with an SOA (minimum 30) for anything else, and counts what it was asked.
 */
import type { ExecutionContext } from 'ava';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

export interface FakeUpstream { port: number; asked: string[] }

function answer(query: Buffer): Buffer {
  const q = dnsPacket.decode(query);
  const question = q.questions![0]!;
  const name = question.name.toLowerCase();
  const known = name === 'example.org' || name.endsWith('.example.org');
  const isA = question.type === 'A';
  return Buffer.from(dnsPacket.encode({
    type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (known ? 0 : 3),
    questions: q.questions,
    answers: known && isA ? [{ name: question.name, type: 'A', ttl: 60, data: '192.0.2.1' }] : [],
    authorities: known && isA ? [] : [{ name: 'org', type: 'SOA', ttl: 900, data: { mname: 'a0.org', rname: 'hostmaster.org', serial: 1, refresh: 1800, retry: 900, expire: 604800, minimum: 30 } }],
  } as dnsPacket.Packet));
}

export async function startFakeUpstream(t: ExecutionContext): Promise<FakeUpstream> {
  const asked: string[] = [];
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    try {
      asked.push(dnsPacket.decode(msg).questions![0]!.name.toLowerCase());
      udp.send(answer(msg), rinfo.port, rinfo.address);
    } catch { /* not a query */ }
  });
  const tcp = createServer((sock) => {
    sock.on('error', () => sock.destroy());
    sock.once('data', (d) => {
      const msg = d.subarray(2);
      asked.push(dnsPacket.decode(msg).questions![0]!.name.toLowerCase());
      const r = answer(msg);
      const frame = Buffer.alloc(2 + r.length);
      frame.writeUInt16BE(r.length, 0);
      r.copy(frame, 2);
      sock.end(frame);
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  const port = (tcp.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', () => resolve()); });
  t.teardown(() => { udp.close(); tcp.close(); });
  return { port, asked };
}
