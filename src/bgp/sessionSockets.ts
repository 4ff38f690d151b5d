/**
 * @module bgp/sessionSockets — the TCP socket a session connects with, and the options Node cannot set itself
 * (TCP MD5 before the SYN, TTL), supplied as hooks so the session runs without the native addon when neither is
 * configured. nativeSocketHooks.ts provides the addon-backed hooks.
 */
import { Socket, type Server } from 'node:net';
import { socketFd } from './bgpConnection.ts';
import { parseAddress } from './bgpPrefix.ts';
import type { SessionConfig } from './sessionConfig.ts';

/** Socket options Node cannot set itself; provided by the native addon when it is built. */
export interface SocketOptionHooks {
  setTtl?(fd: number, ttl: number, v6: boolean): void;
  setTcpMd5?(fd: number, peer: Uint8Array, key: Uint8Array): void;
  /** An unconnected TCP socket whose fd exists before connect (needed for MD5 on the SYN). */
  openTcp?(v6: boolean): Socket;
}

/** Outgoing socket; with MD5 it must come from the addon so the key is set before the SYN (RFC 2385). */
export function openOutgoingSocket(config: SessionConfig, hooks: SocketOptionHooks): Socket {
  if (!config.md5Password) return new Socket();
  if (!hooks.openTcp || !hooks.setTcpMd5) throw new Error('TCP MD5 needs the native addon (npm run build)');
  const socket = hooks.openTcp(config.peerAddress.includes(':'));
  const fd = socketFd(socket);
  if (fd === undefined) throw new Error('the addon socket has no fd');
  hooks.setTcpMd5(fd, parseAddress(config.peerAddress)!, new TextEncoder().encode(config.md5Password));
  return socket;
}

/** TTL once the fd exists; incoming connections inherit the MD5 key from the listener (see Speaker.start). */
export function applyTtl(socket: Socket, config: SessionConfig, hooks: SocketOptionHooks): void {
  const fd = socketFd(socket);
  if (fd === undefined || config.ttl === undefined) return;
  hooks.setTtl?.(fd, config.ttl, config.peerAddress.includes(':'));
}

/** RFC 2385 keys on the listener: the kernel then checks (and signs) connections from those peers. */
export function protectListener(server: Server, peers: Array<{ peerAddress: string; md5Password?: string }>, hooks: SocketOptionHooks | undefined): void {
  const md5Peers = peers.filter((p) => p.md5Password);
  if (!md5Peers.length) return;
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const set = hooks?.setTcpMd5;
  if (!set || fd === undefined || fd < 0) throw new Error('TCP MD5 is configured but the native addon is not available (npm run build)');
  for (const p of md5Peers) set(fd, parseAddress(p.peerAddress)!, new TextEncoder().encode(p.md5Password));
}
