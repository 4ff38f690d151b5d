/**
 * @module netlink/codec — nlmsghdr framing and the NLMSG_ERROR / NLMSG_DONE payloads, pure: bytes in, objects
 * out. One datagram may carry several messages (a multipart dump, or a batch of ACKs); each is 4-byte aligned.
 * Every length is checked against what is really there, so a truncated or hostile buffer raises
 * NetlinkDecodeError instead of reading out of bounds or looping.
 */
import { ByteWriter, align4 } from './byteWriter.ts';
import { decodeAttrs, encodeAttrs, walkAttrs, type AttrSpec, type AttrsOf } from './attributes.ts';
import { NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED } from './constants.ts';
import { NetlinkDecodeError } from './errors.ts';
import { decodeStruct, encodeStruct, structSize, type StructOf, type StructSpec } from './structs.ts';

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** The bytes after the 16-byte header, up to nlmsg_len (a view into the received buffer). */
  payload: Uint8Array;
}

/** Append one message: header, then whatever `body` writes; nlmsg_len is patched afterwards. */
export function encodeMessage(w: ByteWriter, hdr: NetlinkHeader, body?: (w: ByteWriter) => void): void {
  const start = w.length;
  w.u32(0);
  w.u16(hdr.type);
  w.u16(hdr.flags);
  w.u32(hdr.seq);
  w.u32(hdr.pid);
  body?.(w);
  w.patchU32(start, w.length - start);
  w.pad();
}

/** Split a datagram into its messages. */
export function decodeMessages(buf: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < NLMSG_HDRLEN) throw new NetlinkDecodeError(`${left} trailing bytes, shorter than a 16-byte nlmsghdr`, off);
    const len = view.getUint32(off, true);
    if (len < NLMSG_HDRLEN) throw new NetlinkDecodeError(`nlmsg_len ${len} is shorter than the header`, off);
    if (len > left) throw new NetlinkDecodeError(`nlmsg_len ${len} runs past the end of the datagram (${left} bytes left)`, off);
    out.push({
      type: view.getUint16(off + 4, true),
      flags: view.getUint16(off + 6, true),
      seq: view.getUint32(off + 8, true),
      pid: view.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface NetlinkAck {
  /** 0 for an ACK, otherwise the positive errno. */
  errno: number;
  /** NLMSGERR_ATTR_MSG: the kernel's explanation, e.g. "Unknown device type". */
  extack?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  extackOffset?: number;
  /** Header of the request this answers (present in every NLMSG_ERROR). */
  request: NetlinkHeader;
}

/** Decode an NLMSG_ERROR payload (struct nlmsgerr plus, with NLM_F_ACK_TLVS, extended-ack attributes). */
export function decodeError(msg: NetlinkMessage): NetlinkAck {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError(`NLMSG_ERROR payload of ${p.length} bytes, need 20`, NLMSG_HDRLEN, 'NLMSG_ERROR');
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const error = view.getInt32(0, true);
  const reqLen = view.getUint32(4, true);
  const request = { type: view.getUint16(8, true), flags: view.getUint16(10, true), seq: view.getUint32(12, true), pid: view.getUint32(16, true) };
  const ack: NetlinkAck = { errno: -error, request };
  if (!(msg.flags & NLM_F_ACK_TLVS)) return ack;
  // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
  const tlvStart = 4 + (msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(reqLen));
  if (tlvStart > p.length) throw new NetlinkDecodeError(`echoed request of ${reqLen} bytes runs past the NLMSG_ERROR`, 4, 'NLMSG_ERROR');
  walkAttrs(p, tlvStart, p.length, 'NLMSG_ERROR', (type, s, e) => {
    if (type === NLMSGERR_ATTR_MSG) {
      let z = s;
      while (z < e && p[z] !== 0) z++;
      ack.extack = new TextDecoder().decode(p.subarray(s, z));
    } else if (type === NLMSGERR_ATTR_OFFS && e - s === 4) {
      ack.extackOffset = view.getUint32(s, true);
    }
  });
  return ack;
}

/** NLMSG_DONE carries an int: negative when the dump itself failed. */
export function decodeDone(msg: NetlinkMessage): { errno: number; extack?: string } {
  if (msg.payload.length < 4) return { errno: 0 };
  const view = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
  const v = view.getInt32(0, true);
  return { errno: v < 0 ? -v : 0 };
}

/**
 * A family message = fixed struct + attributes. `codec.encode(w, header, attrs)` writes the body and
 * `codec.decode(payload)` reads it back; both keep the kernel's field and attribute names.
 */
export interface BodyCodec<H extends StructSpec, A extends AttrSpec> {
  readonly name: string;
  encode(w: ByteWriter, header: Partial<StructOf<H>>, attrs: AttrsOf<A>): void;
  decode(payload: Uint8Array): { header: StructOf<H>; attrs: AttrsOf<A> };
}

export function bodyCodec<H extends StructSpec, A extends AttrSpec>(name: string, struct: H, attrs: A): BodyCodec<H, A> {
  const size = structSize(struct);
  return {
    name,
    encode(w, header, values) {
      encodeStruct(w, struct, header);
      encodeAttrs(w, attrs, values);
    },
    decode(payload) {
      const header = decodeStruct(payload, 0, struct, name);
      return { header, attrs: decodeAttrs(payload, size, payload.length, attrs, name) };
    },
  };
}
