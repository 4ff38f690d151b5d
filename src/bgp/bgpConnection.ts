/**
 * @module bgp/bgpConnection — one TCP connection carrying BGP: framing, decoding and sending. A session may hold
 * two of these for a moment (one we opened, one the peer opened) until collision resolution keeps one
 * (RFC 4271 6.8), so per-connection progress (OPEN sent, OPEN received) lives here and the FSM in session.ts.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { decodeMessage, encodeNotification, MessageFramer, MAX_MESSAGE, type BgpMessage } from './messages.ts';
import type { DecodeContext } from './attributeDecoder.ts';
import type { ProtocolError } from './notification.ts';
import type { OpenMessage } from './openMessage.ts';

export type ConnectionDirection = 'outgoing' | 'incoming';

export interface ConnectionEvents {
  message: [BgpMessage];
  protocolError: [ProtocolError];
  closed: [string];
}

export class BgpConnection extends EventEmitter<ConnectionEvents> {
  readonly direction: ConnectionDirection;
  readonly socket: Socket;
  /** Set once the peer's OPEN arrived and was accepted on this connection. */
  peerOpen?: OpenMessage;
  decodeContext: DecodeContext;
  #framer = new MessageFramer();
  #closed = false;

  constructor(socket: Socket, direction: ConnectionDirection, ctx: DecodeContext) {
    super();
    this.socket = socket;
    this.direction = direction;
    this.decodeContext = ctx;
    this.#framer.maxMessage = MAX_MESSAGE;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#finish(`TCP error: ${err.message}`));
    // The peer's FIN ('end', in the poll phase) rather than 'close' (a later phase): after a stall, a BFD expiry
    // checked in between would otherwise reset a session whose peer process merely died (graceful restart).
    socket.on('end', () => this.#finish('TCP connection closed'));
    socket.on('close', () => this.#finish('TCP connection closed'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const { messages, error } = this.#framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    for (const m of messages) {
      if (this.#closed) return;
      const r = decodeMessage(m, this.decodeContext, this.#framer.maxMessage);
      if (r.ok) this.emit('message', r.message);
      else { this.emit('protocolError', r.error); return; }
    }
    if (error && !this.#closed) this.emit('protocolError', error);
  }

  /** Write bytes; false means the kernel buffer is full and the caller should await drain(). */
  send(bytes: Uint8Array): boolean {
    if (this.#closed) return true;
    return this.socket.write(bytes);
  }

  drain(): Promise<void> {
    if (this.#closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** Send a NOTIFICATION, then close once it is flushed. */
  notifyAndClose(code: number, subcode: number, data?: Uint8Array): void {
    if (this.#closed) return;
    this.socket.end(encodeNotification(code, subcode, data));
    this.#markClosed();
    // end() waits for the peer's FIN; do not let a silent peer hold the fd open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drop the connection without a NOTIFICATION (what a crash or a graceful restart looks like to the peer). */
  destroy(): void {
    if (this.#closed) return;
    this.#markClosed();
    this.socket.destroy();
  }

  #markClosed(): void {
    this.#closed = true;
    this.removeAllListeners('message');
    this.removeAllListeners('protocolError');
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.emit('closed', reason);
  }
}

/** The fd behind a connected net.Socket (Linux), for socket options Node has no API for (TTL, MD5). */
export function socketFd(socket: Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}
