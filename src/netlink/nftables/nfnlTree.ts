/**
 * @module netlink/nftables/nfnlTree — a schema-free view of an nfnetlink batch: every message as its header and
 * an attribute tree (nested wherever NLA_F_NESTED is set, as libnftnl and podnet both set it). Pure. Used to
 * compare podnet's encoding with what `nft -f` sends attribute by attribute, and to print a batch when the
 * kernel rejects it.
 */
import { decodeMessages } from '../codec.ts';
import { NLA_F_NESTED, NLA_TYPE_MASK } from '../constants.ts';
import { NetlinkDecodeError } from '../errors.ts';

export interface NlAttrNode {
  type: number;
  /** Children when NLA_F_NESTED was set; otherwise the value as hex. */
  nested?: NlAttrNode[];
  hex?: string;
}

export interface NfnlMessageView {
  /** nfnetlink subsystem (high byte of nlmsg_type) and message (low byte). */
  subsys: number;
  msg: number;
  flags: number;
  seq: number;
  family: number;
  resId: number;
  attrs: NlAttrNode[];
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function decodeAttrTree(data: Uint8Array, path = 'attrs'): NlAttrNode[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: NlAttrNode[] = [];
  let off = 0;
  while (data.length - off >= 4) {
    const len = view.getUint16(off, true);
    const rawType = view.getUint16(off + 2, true);
    if (len < 4 || off + len > data.length) throw new NetlinkDecodeError(`attribute length ${len} out of bounds`, off, path);
    const value = data.subarray(off + 4, off + len);
    const type = rawType & NLA_TYPE_MASK;
    out.push(rawType & NLA_F_NESTED ? { type, nested: decodeAttrTree(value, `${path}/${type}`) } : { type, hex: hex(value) });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Every message of a batch datagram (nfgenmsg + attributes). */
export function decodeNfnlBatch(buf: Uint8Array): NfnlMessageView[] {
  return decodeMessages(buf).map((m) => {
    if (m.payload.length < 4) throw new NetlinkDecodeError('nfnetlink message shorter than nfgenmsg', 0);
    return {
      subsys: m.type >> 8, msg: m.type & 0xff, flags: m.flags, seq: m.seq,
      family: m.payload[0]!, resId: (m.payload[2]! << 8) | m.payload[3]!,
      attrs: decodeAttrTree(m.payload.subarray(4)),
    };
  });
}

/** Indented text of a tree (one attribute per line), for diffs in tests and error logs. */
export function formatAttrTree(nodes: readonly NlAttrNode[], indent = ''): string {
  return nodes.map((n) => (n.nested ? `${indent}${n.type}:\n${formatAttrTree(n.nested, `${indent}  `)}` : `${indent}${n.type}=${n.hex}`)).join('\n');
}
