/**
 * @module bgp/openMessage — the OPEN message body (RFC 4271 4.2) with capabilities in optional parameters
 * (RFC 5492) and extended optional parameters length (RFC 9072). Pure: body bytes in, typed result out.
 */
import { formatV4, parseV4 } from './bgpPrefix.ts';
import { decodeCapability, emptyCapabilities, encodeCapabilities, type Capabilities } from './capabilities.ts';
import { ErrorCode, OpenSubcode, protocolError, type ProtocolError } from './notification.ts';

/** RFC 6793: the 2-octet "My AS" placeholder when the real AS does not fit. */
export const AS_TRANS = 23456;

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The speaker's AS: the 4-octet capability's value when present, else the 2-octet field. */
  asn: number;
  holdTime: number;
  routerId: string;
  capabilities: Capabilities;
}

const PARAM_CAPABILITIES = 2;

export function encodeOpenBody(m: Omit<OpenMessage, 'type' | 'version'>): Uint8Array {
  const caps = encodeCapabilities({ ...m.capabilities, fourOctetAs: m.capabilities.fourOctetAs ?? m.asn });
  const capBytes = caps.reduce((n, c) => n + c.length, 0);
  const id = parseV4(m.routerId);
  if (!id) throw new RangeError(`router id ${m.routerId} is not an IPv4 address`);
  // One capabilities parameter holding them all (RFC 5492 allows either); it fits in 255 octets in practice.
  const paramLen = capBytes + 2;
  const body = new Uint8Array(10 + paramLen);
  const dv = new DataView(body.buffer);
  body[0] = 4;
  dv.setUint16(1, m.asn > 0xffff ? AS_TRANS : m.asn);
  dv.setUint16(3, m.holdTime);
  body.set(id, 5);
  body[9] = paramLen;
  body[10] = PARAM_CAPABILITIES;
  body[11] = capBytes;
  let off = 12;
  for (const c of caps) { body.set(c, off); off += c.length; }
  return body;
}

export type OpenResult = { ok: true; message: OpenMessage } | { ok: false; error: ProtocolError };

function openError(subcode: number, reason: string, data?: Uint8Array): OpenResult {
  return { ok: false, error: protocolError(ErrorCode.Open, subcode, reason, data) };
}

/** Walk the optional parameters (1- or 2-octet lengths per RFC 9072) and collect capabilities. */
function readParams(b: Uint8Array, start: number, end: number, wide: boolean, caps: Capabilities): OpenResult | null {
  let off = start;
  while (off < end) {
    const hdr = wide ? 3 : 2;
    if (off + hdr > end) return openError(0, 'optional parameter header runs past the end');
    const type = b[off]!;
    const len = wide ? (b[off + 1]! << 8) | b[off + 2]! : b[off + 1]!;
    const vStart = off + hdr;
    if (vStart + len > end) return openError(0, `optional parameter ${type} runs past the end`);
    if (type !== PARAM_CAPABILITIES) {
      return openError(OpenSubcode.UnsupportedOptionalParameter, `optional parameter type ${type}`);
    }
    for (let c = vStart; c < vStart + len;) {
      if (c + 2 > vStart + len) return openError(0, 'capability header runs past its parameter');
      const code = b[c]!;
      const clen = b[c + 1]!;
      if (c + 2 + clen > vStart + len) return openError(0, `capability ${code} runs past its parameter`);
      const r = decodeCapability(code, b.subarray(c + 2, c + 2 + clen), caps);
      if (!r.ok) return openError(0, r.reason);
      c += 2 + clen;
    }
    off = vStart + len;
  }
  return null;
}

/**
 * Decode and validate an OPEN body (RFC 4271 6.2). Peer-AS checks belong to the session, which knows whom it
 * expects; everything that can be judged from the bytes alone is judged here.
 */
export function decodeOpenBody(b: Uint8Array): OpenResult {
  if (b.length < 10) return openError(0, `OPEN body of ${b.length} octets, minimum 10`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const version = b[0]!;
  if (version !== 4) return openError(OpenSubcode.UnsupportedVersion, `version ${version}`, new Uint8Array([0, 4]));
  const myAs = dv.getUint16(1);
  const holdTime = dv.getUint16(3);
  if (holdTime === 1 || holdTime === 2) return openError(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTime}`);
  const routerId = formatV4(b, 5);
  if (routerId === '0.0.0.0') return openError(OpenSubcode.BadBgpIdentifier, 'BGP identifier 0.0.0.0');
  let paramLen = b[9]!;
  let start = 10;
  let wide = false;
  if (paramLen === 255 && b[10] === 255 && b.length >= 13) {
    wide = true;
    paramLen = dv.getUint16(11);
    start = 13;
  }
  if (start + paramLen !== b.length) return openError(0, `optional parameters length ${paramLen} does not match the body`);
  const caps = emptyCapabilities();
  const bad = readParams(b, start, start + paramLen, wide, caps);
  if (bad) return bad;
  const asn = caps.fourOctetAs ?? myAs;
  if (asn === 0) return openError(OpenSubcode.BadPeerAs, 'AS 0');
  return { ok: true, message: { type: 'open', version, asn, holdTime, routerId, capabilities: caps } };
}
