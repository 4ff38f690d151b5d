/**
 * @module bgp/messages — BGP message framing and the small messages (RFC 4271 4: header, KEEPALIVE,
 * NOTIFICATION; RFC 2918 / 7313 ROUTE-REFRESH), and one entry point `decodeMessage` that turns one framed message
 * into a typed value or a ProtocolError naming the NOTIFICATION to send. Bytes in, objects out; never throws on
 * peer input. OPEN and UPDATE bodies live in openMessage.ts and updateMessage.ts.
 */
import { decodeOpenBody, encodeOpenBody, type OpenMessage } from './openMessage.ts';
import { decodeUpdateBody, encodeUpdateBody, type DecodedUpdate } from './updateMessage.ts';
import { ErrorCode, HeaderSubcode, protocolError, type ProtocolError } from './notification.ts';
import type { DecodeContext } from './attributeDecoder.ts';
import type { EncodeContext, PathAttributes } from './pathAttributes.ts';

export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE = 4096;
/** RFC 8654 extended messages, when both sides advertised the capability. */
export const MAX_EXTENDED_MESSAGE = 65535;

export interface KeepaliveMessage { type: 'keepalive' }
export interface NotificationMessage { type: 'notification'; code: number; subcode: number; data: Uint8Array }
export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313: 0 = normal request, 1 = begin of route refresh, 2 = end of route refresh. */
  subtype: number;
}
export interface UpdateEnvelope { type: 'update'; update: DecodedUpdate }

export type BgpMessage = OpenMessage | UpdateEnvelope | KeepaliveMessage | NotificationMessage | RouteRefreshMessage;
export type MessageResult = { ok: true; message: BgpMessage } | { ok: false; error: ProtocolError };

export function frame(type: number, body: Uint8Array): Uint8Array {
  const len = HEADER_LENGTH + body.length;
  const out = new Uint8Array(len);
  out.fill(0xff, 0, 16);
  out[16] = len >> 8;
  out[17] = len & 0xff;
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

export function encodeOpen(m: Omit<OpenMessage, 'type' | 'version'>): Uint8Array {
  return frame(MessageType.Open, encodeOpenBody(m));
}

export function encodeUpdate(m: { withdrawn: string[]; attributes: PathAttributes; nlri: string[] }, ctx: EncodeContext): Uint8Array {
  return frame(MessageType.Update, encodeUpdateBody(m, ctx));
}

export function encodeKeepalive(): Uint8Array {
  return frame(MessageType.Keepalive, new Uint8Array(0));
}

export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = new Uint8Array(2 + data.length);
  body[0] = code;
  body[1] = subcode;
  body.set(data, 2);
  return frame(MessageType.Notification, body);
}

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Uint8Array {
  return frame(MessageType.RouteRefresh, new Uint8Array([afi >> 8, afi & 0xff, subtype, safi]));
}

function lengthError(len: number, reason: string): ProtocolError {
  return protocolError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageLength, reason, new Uint8Array([len >> 8, len & 0xff]));
}

/**
 * Check a header at the start of `b` (at least 19 octets). Returns the message length, or the error to send
 * (RFC 4271 6.1: marker not all ones, length out of range or wrong for the type, unknown type).
 */
export function checkHeader(b: Uint8Array, maxMessage: number): { ok: true; length: number; type: number } | { ok: false; error: ProtocolError } {
  for (let i = 0; i < 16; i++) {
    if (b[i] !== 0xff) return { ok: false, error: protocolError(ErrorCode.MessageHeader, HeaderSubcode.ConnectionNotSynchronized, 'marker is not all ones') };
  }
  const length = (b[16]! << 8) | b[17]!;
  const type = b[18]!;
  if (length < HEADER_LENGTH || length > maxMessage) return { ok: false, error: lengthError(length, `message length ${length}`) };
  const min: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };
  const need = min[type];
  if (need === undefined) {
    return { ok: false, error: protocolError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, `message type ${type}`, new Uint8Array([type])) };
  }
  if (length < need || ((type === 4 || type === 5) && length !== need)) return { ok: false, error: lengthError(length, `message type ${type} of length ${length}`) };
  return { ok: true, length, type };
}

/** Decode one complete message (header included). */
export function decodeMessage(b: Uint8Array, ctx: DecodeContext, maxMessage = MAX_MESSAGE): MessageResult {
  if (b.length < HEADER_LENGTH) return { ok: false, error: lengthError(b.length, `message of ${b.length} octets`) };
  const h = checkHeader(b, maxMessage);
  if (!h.ok) return h;
  if (h.length !== b.length) return { ok: false, error: lengthError(h.length, `header says ${h.length} octets, got ${b.length}`) };
  const body = b.subarray(HEADER_LENGTH);
  switch (h.type) {
    case MessageType.Open: {
      const r = decodeOpenBody(body);
      return r.ok ? { ok: true, message: r.message } : r;
    }
    case MessageType.Update: {
      const r = decodeUpdateBody(body, ctx);
      return r.ok ? { ok: true, message: { type: 'update', update: r.update } } : r;
    }
    case MessageType.Notification:
      return { ok: true, message: { type: 'notification', code: body[0]!, subcode: body[1]!, data: body.slice(2) } };
    case MessageType.Keepalive:
      return { ok: true, message: { type: 'keepalive' } };
    default:
      return { ok: true, message: { type: 'route-refresh', afi: (body[0]! << 8) | body[1]!, subtype: body[2]!, safi: body[3]! } };
  }
}

/**
 * Cuts a TCP byte stream into messages. Holds at most one partial message; a bad header is reported once and the
 * framer then refuses more input, because after it the stream cannot be re-synchronised (RFC 4271 6.1).
 */
export class MessageFramer {
  #buf: Uint8Array = new Uint8Array(0);
  #broken = false;
  maxMessage = MAX_MESSAGE;

  push(chunk: Uint8Array): { messages: Uint8Array[]; error?: ProtocolError } {
    if (this.#broken) return { messages: [] };
    const buf = this.#buf.length ? concat(this.#buf, chunk) : chunk;
    const messages: Uint8Array[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_LENGTH) {
      const h = checkHeader(buf.subarray(off, off + HEADER_LENGTH), this.maxMessage);
      if (!h.ok) {
        this.#broken = true;
        this.#buf = new Uint8Array(0);
        return { messages, error: h.error };
      }
      if (buf.length - off < h.length) break;
      messages.push(buf.subarray(off, off + h.length));
      off += h.length;
    }
    this.#buf = off < buf.length ? buf.slice(off) : new Uint8Array(0);
    return { messages };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
