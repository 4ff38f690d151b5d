/**
 * Both UDP paths — native recvmmsg/sendmmsg batches (the default) and the node:dgram fallback — answer alike: a
 * burst from one client gets every answer with its own ID and the question's letter case, truncation and the TCP
 * retry work, a forwarded query answered after later queries reused the receive buffer still carries its own
 * question, malformed datagrams get FORMERR or nothing, and every query is counted once.
 */
import test, { type ExecutionContext } from 'ava';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { startFedServer, type FedServer } from './helpers/dnsServerFixture.ts';
import { clusterIpService, endpoint, externalNameService, headlessService, namespace, slice } from '../../unit/dns/helpers/dnsObjects.ts';
import type { UdpIo } from '../../../src/dns/dnsTransports.ts';
import { startDnsServer } from '../../../src/dns/dnsServer.ts';
import { silentLogger } from '../../../src/common/logger.ts';

const objects = () => [
  namespace('default'), clusterIpService('default', 'web', ['10.96.0.20']),
  headlessService('default', 'big'), externalNameService('default', 'ext', 'www.example.org'),
  slice('default', 'big', 'big-a', Array.from({ length: 120 }, (_, i) => endpoint(`10.244.${i >> 6}.${(i & 63) + 1}`))),
];

function query(id: number, name: string, opts: { edns?: boolean } = {}): Buffer {
  return Buffer.from(dnsPacket.encode({
    type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] } : {}),
  }));
}

/** Send raw datagrams from one socket; resolves with the replies once `want` arrived (or after 3 s). */
async function ask(t: ExecutionContext, port: number, msgs: Buffer[], want = msgs.length): Promise<Buffer[]> {
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  const replies: Buffer[] = [];
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    sock.on('message', (m) => { replies.push(m); if (replies.length >= want) { clearTimeout(timer); resolve(); } });
  });
  for (const m of msgs) sock.send(m, port, '127.0.0.1');
  await done;
  return replies;
}

async function start(t: ExecutionContext, udpIo: UdpIo, upstreamPort?: number): Promise<FedServer> {
  const s = await startFedServer(t, objects(), { udpIo, ...(upstreamPort ? { upstreams: [{ host: '127.0.0.1', port: upstreamPort }] } : {}) });
  t.is(s.server.udpIo, udpIo, 'the requested UDP path is the one in use');
  return s;
}

/** An upstream that answers every query with A 192.0.2.1 after `delayMs`. */
async function startSlowUpstream(t: ExecutionContext, delayMs: number): Promise<number> {
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const reply = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions,
      answers: [{ name: q.questions![0]!.name, type: 'A', ttl: 60, data: '192.0.2.1' }] });
    setTimeout(() => sock.send(reply, rinfo.port, rinfo.address), delayMs);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return sock.address().port;
}

const dataOf = (a: dnsPacket.Answer): unknown => (a as { data?: unknown }).data;
const mixedCase = (i: number) => (i % 2 ? 'WEB.Default.svc.cluster.LOCAL' : 'web.default.SVC.cluster.local');

for (const udpIo of ['recvmmsg', 'dgram'] as const) {
  test(`${udpIo}: bursts of queries from one client are answered, each with its ID and letter case`, async (t) => {
    const s = await start(t, udpIo);
    const msgs = Array.from({ length: 300 }, (_, i) => query(i + 1, mixedCase(i), { edns: i % 3 === 0 }));
    // Bursts of 50 (the client's own receive queue would overflow beyond ~250 unread replies).
    const replies: dnsPacket.Packet[] = [];
    for (let i = 0; i < 300; i += 50) replies.push(...(await ask(t, s.port, msgs.slice(i, i + 50))).map((r) => dnsPacket.decode(r)));
    t.is(replies.length, 300);
    for (const r of replies) {
      t.is(r.questions![0]!.name, mixedCase(r.id! - 1), `question echoed as asked (id ${r.id})`);
      t.deepEqual(r.answers!.map(dataOf), ['10.96.0.20']);
      t.is(r.additionals!.some((a) => a.type === 'OPT'), (r.id! - 1) % 3 === 0, 'OPT only when asked with EDNS');
    }
    t.deepEqual(replies.map((r) => r.id).sort((a, b) => a! - b!), msgs.map((_, i) => i + 1));
    const body = await s.server.metrics.registry.metrics();
    t.regex(body, /coredns_dns_requests_total\{[^}]*proto="udp"[^}]*type="A"\} 300\n/);
  });

  test(`${udpIo}: big answers are truncated with TC over UDP and complete over TCP`, async (t) => {
    const s = await start(t, udpIo);
    t.regex(await s.dig(['+ignore', '+bufsize=1232', 'big.default.svc.cluster.local']), /flags: qr aa tc rd ra; QUERY: 1, ANSWER: 0/);
    t.is((await s.short('big.default.svc.cluster.local')).length, 120, 'dig retried over TCP');
  });

  test(`${udpIo}: answers that wait for an upstream, sent after later queries, carry their own question`, async (t) => {
    const up = await startSlowUpstream(t, 300);
    const s = await start(t, udpIo, up);
    // The two upstream-bound queries arrive in one batch; the 40 local ones arrive in a later batch, reusing the
    // receive slots before the upstream answers. The ExternalName answer is stamped with the question's bytes only
    // after the upstream's answer.
    const sock = createSocket('udp4');
    t.teardown(() => sock.close());
    const replies: dnsPacket.Packet[] = [];
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      sock.on('message', (m) => { replies.push(dnsPacket.decode(m)); if (replies.length === 42) { clearTimeout(timer); resolve(); } });
    });
    for (const m of [query(1000, 'Fwd.Example.ORG'), query(1001, 'EXT.default.SVC.cluster.local')]) sock.send(m, s.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 40; i++) sock.send(query(i + 1, 'web.default.svc.cluster.local'), s.port, '127.0.0.1');
    await done;
    const fwd = replies.find((r) => r.id === 1000);
    t.is(fwd?.questions![0]!.name, 'Fwd.Example.ORG');
    t.deepEqual(fwd?.answers!.map(dataOf), ['192.0.2.1']);
    const ext = replies.find((r) => r.id === 1001);
    t.is(ext?.questions![0]!.name, 'EXT.default.SVC.cluster.local');
    t.deepEqual(ext?.answers!.map((a) => [a.type, dataOf(a)]), [['CNAME', 'www.example.org'], ['A', '192.0.2.1']]);
    t.is(replies.length, 42);
    t.is(replies.findIndex((r) => r.id! >= 1000), 40, 'the upstream-bound answers came last');
  });

  test(`${udpIo}: malformed datagrams get FORMERR or nothing, and answering goes on`, async (t) => {
    const s = await start(t, udpIo);
    const bad = [
      Buffer.from([1, 2, 3]), // shorter than a header: no reply
      Buffer.from([0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), // pointer to itself
      Buffer.from([0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 1]), // huge counts
    ];
    const replies = await ask(t, s.port, [...bad, query(9, 'web.default.svc.cluster.local')], 3);
    t.deepEqual(replies.map((r) => [r.readUInt16BE(0), r[3]! & 0xf]).sort((a, b) => a[0]! - b[0]!), [[7, 1], [8, 1], [9, 0]]);
  });
}

test('recvmmsg on an IPv6 address answers IPv6 clients and counts them as family 2', async (t) => {
  const server = await startDnsServer({
    listen: { host: '::1', port: 0 }, zone: 'cluster.local', pods: 'disabled', ttl: 5, upstreams: [], logQueries: false, logger: silentLogger,
  });
  t.teardown(() => server.close());
  t.is(server.udpIo, 'recvmmsg');
  const sock = createSocket('udp6');
  t.teardown(() => sock.close());
  const reply = new Promise<Buffer>((resolve) => sock.once('message', resolve));
  sock.send(query(42, 'Cluster.Local'), server.port, '::1');
  const raw = await reply;
  const r = dnsPacket.decode(raw);
  t.is(r.id, 42);
  t.is(r.questions![0]!.name, 'Cluster.Local');
  t.is(raw[3]! & 0xf, 2, 'SERVFAIL: zone names wait for the first sync');
  t.regex(await server.metrics.registry.metrics(), /coredns_dns_requests_total\{[^}]*proto="udp",family="2"[^}]*\} 1\n/);
});
