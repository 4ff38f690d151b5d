/**
 * Just enough rtnetlink, written independently of src/netlink, to check the addon against the kernel: a link dump
 * request built by hand (16-byte nlmsghdr + 16-byte ifinfomsg), message splitting, IFLA_IFNAME and NLMSG_ERROR.
 */
import { native } from '../../../../src/native/index.ts';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_CREATE = 0x400;
export const NLM_F_EXCL = 0x200;
export const NLM_F_ACK_TLVS = 0x200;
export const RTMGRP_LINK = 1;
export const RTNLGRP_LINK = 1;

export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

function header(length: number, type: number, flags: number, seq: number): Uint8Array {
  const buf = new Uint8Array(length);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, length, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, flags, true);
  dv.setUint32(8, seq, true);
  return buf;
}

export function linkDumpRequest(seq: number): Uint8Array {
  return header(32, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
}

/** RTM_NEWLINK for a link of a kind the kernel does not know: fails with an extended-ACK message. */
export function newLinkOfUnknownKind(seq: number, name: string, kind: string): Uint8Array {
  const attr = (type: number, body: Uint8Array) => {
    const out = new Uint8Array((4 + body.length + 3) & ~3);
    new DataView(out.buffer).setUint16(0, 4 + body.length, true);
    new DataView(out.buffer).setUint16(2, type, true);
    out.set(body, 4);
    return out;
  };
  const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);
  const ifname = attr(3, cstr(name)); // IFLA_IFNAME
  const linkinfo = attr(18 | 0x8000, attr(1, cstr(kind))); // IFLA_LINKINFO { IFLA_INFO_KIND }
  const msg = header(32 + ifname.length + linkinfo.length, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  msg.set(ifname, 32);
  msg.set(linkinfo, 32 + ifname.length);
  return msg;
}

export function splitMessages(buf: Uint8Array): NlMsg[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMsg[] = [];
  for (let off = 0; off + 16 <= buf.length; ) {
    const len = dv.getUint32(off, true);
    if (len < 16 || off + len > buf.length) throw new Error(`bad netlink length ${len} at ${off}`);
    out.push({
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + 16, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

function attributes(buf: Uint8Array): Map<number, Uint8Array> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<number, Uint8Array>();
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = dv.getUint16(off, true);
    if (len < 4) break;
    out.set(dv.getUint16(off + 2, true) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

const cString = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, Math.max(0, b.indexOf(0))));

/** IFLA_IFNAME of an RTM_NEWLINK message. */
export function linkName(msg: NlMsg): string | undefined {
  const name = attributes(msg.payload.subarray(16)).get(3);
  return name ? cString(name) : undefined;
}

/** The (negative) errno of an NLMSG_ERROR and the extended-ACK text, if any. */
export function errorOf(msg: NlMsg): { errno: number; extAck: string | undefined } {
  const dv = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
  const errno = dv.getInt32(0, true);
  if (!(msg.flags & NLM_F_ACK_TLVS)) return { errno, extAck: undefined };
  // With NETLINK_CAP_ACK off, the whole request follows the errno; its own header says how long it is.
  const requestLength = dv.getUint32(4, true);
  const text = attributes(msg.payload.subarray(4 + ((requestLength + 3) & ~3))).get(1); // NLMSGERR_ATTR_MSG
  return { errno, extAck: text ? cString(text) : undefined };
}

/**
 * Send one request and collect the replies with its sequence number up to DONE or an ERROR/ACK; messages that are
 * not replies (events queued earlier) go to `others` when given.
 */
export function request(fd: number, bytes: Uint8Array, seq: number, others?: NlMsg[]): Promise<NlMsg[]> {
  return new Promise((resolve, reject) => {
    const replies: NlMsg[] = [];
    native.startReading(fd, (err, data) => {
      if (err || !data) {
        native.stopReading(fd);
        reject(err ?? new Error('no data'));
        return;
      }
      for (const msg of splitMessages(data)) {
        if (msg.seq !== seq) {
          others?.push(msg);
          continue;
        }
        replies.push(msg);
        if (msg.type === NLMSG_DONE || msg.type === NLMSG_ERROR) {
          native.stopReading(fd);
          resolve(replies);
          return;
        }
      }
    });
    native.send(fd, bytes);
  });
}

/** Resolve with the first received message that matches. */
export function nextMessage(fd: number, match: (msg: NlMsg) => boolean): Promise<NlMsg> {
  return new Promise((resolve, reject) => {
    native.startReading(fd, (err, data) => {
      if (err || !data) {
        native.stopReading(fd);
        reject(err ?? new Error('no data'));
        return;
      }
      const hit = splitMessages(data).find(match);
      if (hit) {
        native.stopReading(fd);
        resolve(hit);
      }
    });
  });
}
