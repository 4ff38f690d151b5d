/**
 * A stand-in upstream resolver for the DNS lab tests, run as a lab process in the client namespace
 * (`node --import=tsx fakeUpstreamProcess.ts ADDR PORT ANSWER`): UDP only, answers `example.org` A with ANSWER
 * (TTL 60), NODATA for its other types, NXDOMAIN with an SOA for any other name. Prints `ready` once bound and
 * `asked NAME TYPE` for every question, so a test reads from its log what reached the upstream. Exits on SIGTERM.
 */
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

function reply(query: dnsPacket.Packet): Buffer {
  const question = query.questions![0]!;
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const known = name === 'example.org';
  const answers: dnsPacket.Answer[] = known && question.type === 'A' ? [{ name: question.name, type: 'A', ttl: 60, data: exampleOrgA }] : [];
  return Buffer.from(dnsPacket.encode({
    type: 'response', id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (known ? 0 : 3),
    questions: query.questions, answers,
    authorities: answers.length ? [] : [{ name: known ? 'example.org' : '.', type: 'SOA', ttl: 60,
      data: { mname: 'ns.example.org', rname: 'hostmaster.example.org', serial: 1, refresh: 1800, retry: 900, expire: 604800, minimum: 30 } }],
  } as dnsPacket.Packet));
}

const [host, port, exampleOrgA] = process.argv.slice(2);
if (!host || !port || !exampleOrgA) {
  process.stderr.write('usage: fakeUpstreamProcess.ts ADDR PORT ANSWER (run inside a lab namespace)\n');
  process.exit(2);
}
const udp = createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  let query: dnsPacket.Packet;
  try { query = dnsPacket.decode(msg); } catch { return; }
  const q = query.questions?.[0];
  if (!q) return;
  process.stdout.write(`asked ${q.name.toLowerCase()} ${q.type}\n`);
  udp.send(reply(query), rinfo.port, rinfo.address);
});
udp.bind(Number(port), host, () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => udp.close(() => process.exit(0)));
