// The sender addresses the batch transport formats for the query log, from raw sockaddrs as recvmmsg leaves them.
import test from 'ava';
import { peerAddress } from '../../../src/dns/udpBatchTransport.ts';

function sockaddr(family: number, bytes: number[]): Uint8Array {
  const sa = new Uint8Array(56);
  sa[28] = family; // the second slot, to check the offset is honoured
  sa.set(bytes, family === 2 ? 28 + 4 : 28 + 8);
  return sa;
}

test('IPv4 and IPv6 senders are formatted as addresses', (t) => {
  t.is(peerAddress(sockaddr(2, [10, 244, 1, 5]), 28), '10.244.1.5');
  t.is(peerAddress(sockaddr(10, [...Array(15).fill(0), 1]), 28), '::1');
  t.is(peerAddress(sockaddr(10, [0xfd, 0, ...Array(13).fill(0), 5]), 28), 'fd00::5');
  t.is(peerAddress(sockaddr(10, [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]), 28), '2001:db8:1:2:3:4:5:6');
});
