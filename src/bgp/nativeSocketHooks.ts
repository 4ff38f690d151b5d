/**
 * @module bgp/nativeSocketHooks — the socket options Node cannot set, through the native addon: TCP MD5
 * (RFC 2385) on outgoing sockets *before* connect and on the listener, and IP TTL / IPv6 hop limit for eBGP
 * single-hop vs multihop. Without the addon the speaker still runs; MD5 peers then fail loudly at start.
 */
import { Socket } from 'node:net';
import { loadNative, AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_IPV6 } from '../native/index.ts';
import type { SocketOptionHooks } from './sessionSockets.ts';

const IPPROTO_IP = 0;
const IP_TTL = 2;
const IPV6_UNICAST_HOPS = 16;

/** Hooks backed by the native addon, or `{ hooks: {}, missing }` saying why they are not available. */
export function nativeSocketHooks(): { hooks: SocketOptionHooks; missing?: string } {
  let n: ReturnType<typeof loadNative>;
  try {
    n = loadNative();
  } catch (err) {
    return { hooks: {}, missing: err instanceof Error ? err.message : String(err) };
  }
  return {
    hooks: {
      setTcpMd5: (fd, peer, key) => n.setTcpMd5(fd, peer, key),
      setTtl: (fd, ttl, v6) => n.setsockoptInt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, ttl),
      // An unconnected TCP socket from the addon, so options (MD5) are in place before the SYN; Node adopts the fd
      // and binds/connects it itself.
      openTcp: (v6) => new Socket({ fd: n.openSocket({ domain: v6 ? AF_INET6 : AF_INET, type: SOCK_STREAM }) }),
    },
  };
}
