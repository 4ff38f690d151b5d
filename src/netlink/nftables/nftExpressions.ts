/**
 * @module netlink/nftables/nftExpressions — the nf_tables rule expressions podnet's proxy chains use, as typed
 * values, and their attribute encoding (NFTA_EXPR_NAME + NFTA_EXPR_DATA). Pure. Attribute order and widths are
 * the ones nft 1.0.6 / libnftnl send (checked against captures in test/unit/services/nftNetlinkCodec.test.ts):
 * all integers big-endian 32-bit, data values as long as the field they match (1 byte for l4proto, 2 for a port).
 */
import type { ByteWriter } from '../byteWriter.ts';
import { NLA_F_NESTED } from '../constants.ts';
import {
  NFT_BYTEORDER_HTON, NFT_CMP_EQ, NFT_CMP_NEQ, NFT_DYNSET_OP_UPDATE, NFT_LOOKUP_F_INV, NFT_META_L4PROTO, NFT_NAT_DNAT, NFT_NG_RANDOM,
  NFT_PAYLOAD_BASE, NFT_FIB_RESULT_ADDRTYPE, NFTA_FIB_F_SADDR, NF_NAT_RANGE_PROTO_SPECIFIED, VERDICT,
} from './nftConstants.ts';

export type VerdictKind = keyof typeof VERDICT;
export interface Verdict {
  kind: VerdictKind;
  /** Target chain of jump/goto. */
  chain?: string;
}

export type NftExpr =
  | { expr: 'payload'; dreg: number; base: keyof typeof NFT_PAYLOAD_BASE; offset: number; len: number }
  | { expr: 'meta'; dreg: number; key: 'l4proto' }
  | { expr: 'cmp'; sreg: number; op: 'eq' | 'neq'; data: Uint8Array }
  /** `dreg`: a map lookup, the element's data lands there. */
  | { expr: 'lookup'; sreg: number; set: string; invert: boolean; dreg?: number }
  | { expr: 'immediate'; dreg: number; data: Uint8Array }
  | { expr: 'verdict'; verdict: Verdict }
  | { expr: 'numgen'; dreg: number; modulus: number; offset: number }
  | { expr: 'byteorderHton'; sreg: number; dreg: number; len: number; size: number }
  | { expr: 'dynsetUpdate'; sregKey: number; set: string }
  /** `protoFlag`: nft writes NF_NAT_RANGE_PROTO_SPECIFIED for `dnat to A:P`, not for `dnat to … map` (default true). */
  | { expr: 'natDnat'; family: number; regAddr: number; regProto: number | null; protoFlag?: boolean }
  | { expr: 'fibSaddrType'; dreg: number };

// ------------------------------------------------------------------ TLV helpers (nf_tables attributes)

export function attrBytes(w: ByteWriter, type: number, value: Uint8Array): void {
  w.u16(4 + value.length);
  w.u16(type);
  w.bytes(value);
  w.pad();
}

export function attrBe32(w: ByteWriter, type: number, v: number): void {
  w.u16(8);
  w.u16(type);
  w.u8((v >>> 24) & 0xff);
  w.u8((v >>> 16) & 0xff);
  w.u8((v >>> 8) & 0xff);
  w.u8(v & 0xff);
}

export function attrBe64(w: ByteWriter, type: number, v: bigint): void {
  w.u16(12);
  w.u16(type);
  for (let shift = 56n; shift >= 0n; shift -= 8n) w.u8(Number((v >> shift) & 0xffn));
}

const utf8 = new TextEncoder();
export function attrString(w: ByteWriter, type: number, s: string): void {
  const b = utf8.encode(s);
  const v = new Uint8Array(b.length + 1);
  v.set(b);
  attrBytes(w, type, v);
}

/** A nested attribute (NLA_F_NESTED set, as libnftnl sets it); `body` writes the children. */
export function attrNest(w: ByteWriter, type: number, body: () => void): void {
  const start = w.length;
  w.u16(0);
  w.u16(type | NLA_F_NESTED);
  body();
  w.patchU16(start, w.length - start);
  w.pad();
}

// ------------------------------------------------------------------ data (NFTA_DATA_*)

const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;

export function encodeDataValue(w: ByteWriter, type: number, value: Uint8Array): void {
  attrNest(w, type, () => attrBytes(w, NFTA_DATA_VALUE, value));
}

export function encodeDataVerdict(w: ByteWriter, type: number, v: Verdict): void {
  attrNest(w, type, () => attrNest(w, NFTA_DATA_VERDICT, () => {
    attrBe32(w, NFTA_VERDICT_CODE, VERDICT[v.kind] >>> 0);
    if (v.chain !== undefined) attrString(w, NFTA_VERDICT_CHAIN, v.chain);
  }));
}

// ------------------------------------------------------------------ expressions

const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;

function exprData(e: NftExpr, w: ByteWriter): void {
  switch (e.expr) {
    case 'payload': // NFTA_PAYLOAD_DREG, BASE, OFFSET, LEN
      attrBe32(w, 1, e.dreg); attrBe32(w, 2, NFT_PAYLOAD_BASE[e.base]); attrBe32(w, 3, e.offset); attrBe32(w, 4, e.len);
      return;
    case 'meta': // NFTA_META_KEY, then DREG (libnftnl's order)
      attrBe32(w, 2, NFT_META_L4PROTO); attrBe32(w, 1, e.dreg);
      return;
    case 'cmp': // NFTA_CMP_SREG, OP, DATA
      attrBe32(w, 1, e.sreg); attrBe32(w, 2, e.op === 'eq' ? NFT_CMP_EQ : NFT_CMP_NEQ); encodeDataValue(w, 3, e.data);
      return;
    case 'lookup': // NFTA_LOOKUP_SREG, SET, FLAGS (set by name: the kernel resolves it inside the transaction)
      attrBe32(w, 2, e.sreg);
      if (e.dreg !== undefined) attrBe32(w, 3, e.dreg); // NFTA_LOOKUP_DREG
      attrString(w, 1, e.set);
      if (e.invert) attrBe32(w, 5, NFT_LOOKUP_F_INV);
      return;
    case 'immediate': // NFTA_IMMEDIATE_DREG, DATA
      attrBe32(w, 1, e.dreg); encodeDataValue(w, 2, e.data);
      return;
    case 'verdict':
      attrBe32(w, 1, 0); encodeDataVerdict(w, 2, e.verdict);
      return;
    case 'numgen': // NFTA_NG_DREG, MODULUS, TYPE, OFFSET
      attrBe32(w, 1, e.dreg); attrBe32(w, 2, e.modulus); attrBe32(w, 3, NFT_NG_RANDOM); attrBe32(w, 4, e.offset);
      return;
    case 'byteorderHton': // NFTA_BYTEORDER_SREG, DREG, OP, LEN, SIZE
      attrBe32(w, 1, e.sreg); attrBe32(w, 2, e.dreg); attrBe32(w, 3, NFT_BYTEORDER_HTON); attrBe32(w, 4, e.len); attrBe32(w, 5, e.size);
      return;
    case 'dynsetUpdate': // NFTA_DYNSET_SREG_KEY, OP, SET_NAME
      attrBe32(w, 4, e.sregKey); attrBe32(w, 3, NFT_DYNSET_OP_UPDATE); attrString(w, 1, e.set);
      return;
    case 'natDnat': // NFTA_NAT_TYPE, FAMILY, REG_ADDR_MIN, REG_PROTO_MIN, FLAGS
      attrBe32(w, 1, NFT_NAT_DNAT); attrBe32(w, 2, e.family); attrBe32(w, 3, e.regAddr);
      if (e.regProto !== null) attrBe32(w, 5, e.regProto);
      if (e.regProto !== null && e.protoFlag !== false) attrBe32(w, 7, NF_NAT_RANGE_PROTO_SPECIFIED);
      return;
    case 'fibSaddrType': // NFTA_FIB_FLAGS, RESULT, DREG
      attrBe32(w, 3, NFTA_FIB_F_SADDR); attrBe32(w, 2, NFT_FIB_RESULT_ADDRTYPE); attrBe32(w, 1, e.dreg);
      return;
  }
}

const KERNEL_NAME: Record<NftExpr['expr'], string> = {
  payload: 'payload', meta: 'meta', cmp: 'cmp', lookup: 'lookup', immediate: 'immediate', verdict: 'immediate',
  numgen: 'numgen', byteorderHton: 'byteorder', dynsetUpdate: 'dynset', natDnat: 'nat', fibSaddrType: 'fib',
};

/** NFTA_RULE_EXPRESSIONS: each expression a NFTA_LIST_ELEM (type 1). */
export function encodeExpressions(w: ByteWriter, type: number, exprs: readonly NftExpr[]): void {
  attrNest(w, type, () => {
    for (const e of exprs) {
      attrNest(w, 1, () => {
        attrString(w, NFTA_EXPR_NAME, KERNEL_NAME[e.expr]);
        attrNest(w, NFTA_EXPR_DATA, () => exprData(e, w));
      });
    }
  });
}
