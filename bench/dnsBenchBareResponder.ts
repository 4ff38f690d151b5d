/**
 * The runtime's ceiling for bench/dns: a bare Node UDP responder that decodes nothing and answers every query
 * with one A record (flip QR, set ANCOUNT 1, append a pointer to the question). `node bench/dnsBenchBareResponder.ts PORT`.
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

const ANSWER = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 1]);
const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  const out = Buffer.allocUnsafe(msg.length + ANSWER.length);
  msg.copy(out);
  ANSWER.copy(out, msg.length);
  out[2] = msg[2]! | 0x84;
  out[3] = 0x80;
  out.writeUInt16BE(1, 6);
  sock.send(out, rinfo.port, rinfo.address);
});
sock.bind(Number(process.argv[2] ?? '0'), '127.0.0.1', () => {
  process.stdout.write(`ready ${(sock.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => { sock.close(); process.exit(0); });
