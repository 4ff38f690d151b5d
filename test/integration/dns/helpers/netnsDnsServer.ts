/**
 * Runs inside a test's network namespace (`ip netns exec NS node --import=tsx netnsDnsServer.ts FILE PORT`):
 * a DNS server on 127.0.0.1:PORT whose index holds the objects in FILE (JSON list), forwarding other names to a
 * stand-in upstream on 127.0.0.2:53 that answers `*.example.org` A 192.0.2.1 and NXDOMAIN otherwise. Prints
 * "ready PORT" once listening and "upstream NAME" for every question the upstream gets; exits on SIGTERM.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { silentLogger } from '../../../../src/common/logger.ts';
import { startDnsServer } from '../../../../src/dns/dnsServer.ts';
import type { KindMap } from '../../../../src/store/types.ts';

const upstream = createSocket('udp4');
upstream.on('message', (msg, rinfo) => {
  const q = dnsPacket.decode(msg);
  const question = q.questions![0]!;
  process.stdout.write(`upstream ${question.name.toLowerCase()}\n`);
  const known = question.name.toLowerCase().endsWith('example.org') && question.type === 'A';
  upstream.send(Buffer.from(dnsPacket.encode({
    type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3), questions: q.questions,
    answers: known ? [{ name: question.name, type: 'A', ttl: 60, data: '192.0.2.1' }] : [],
  } as dnsPacket.Packet)), rinfo.port, rinfo.address);
});
await new Promise<void>((resolve) => upstream.bind(53, '127.0.0.2', () => resolve()));

const [file, port] = process.argv.slice(2);
const objects = JSON.parse(readFileSync(file!, 'utf8')) as Array<KindMap['Service'] | KindMap['EndpointSlice'] | KindMap['Namespace']>;
const server = await startDnsServer({
  listen: { host: '127.0.0.1', port: Number(port) }, zone: 'cluster.local', pods: 'disabled', ttl: 5,
  upstreams: [{ host: '127.0.0.2', port: 53 }], logQueries: false, logger: silentLogger,
});
for (const o of objects) {
  if (o.kind === 'Service') server.index.applyService('added', o);
  else if (o.kind === 'EndpointSlice') server.index.applyEndpointSlice('added', o);
  else server.index.applyNamespace('added', o);
}
server.index.markSynced();
process.stdout.write(`ready ${server.port}\n`);
process.once('SIGTERM', () => { upstream.close(); void server.close().then(() => process.exit(0)); });
