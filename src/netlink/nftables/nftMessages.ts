/**
 * @module netlink/nftables/nftMessages — one nf_tables transaction as an nfnetlink batch datagram, pure:
 * NFNL_MSG_BATCH_BEGIN (res_id = NFNL_SUBSYS_NFTABLES), the operations, NFNL_MSG_BATCH_END. The kernel applies
 * the whole batch or nothing. Message flags follow nft 1.0.6 (NEWRULE: CREATE|APPEND; NEWCHAIN/NEWSET/NEWSETELEM:
 * CREATE; deletes: none), except that the LAST operation also asks for an ACK: the kernel reports errors of any
 * message and, once the batch is committed, that one ACK, so a sender knows the outcome without waiting.
 *
 * Objects are named, never referenced by handle or transaction id (NFTA_*_ID): the kernel resolves names against
 * the next generation, which includes chains and sets created earlier in the same batch.
 */
import { ByteWriter } from '../byteWriter.ts';
import { encodeMessage } from '../codec.ts';
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST } from '../constants.ts';
import { NetlinkEncodeError } from '../errors.ts';
import {
  BYTEORDER_BIG_ENDIAN, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFT_MSG, NFT_SET_EVAL, NFT_SET_INTERVAL, NFT_SET_MAP, NFT_SET_TIMEOUT,
  UDATA_SET_KEYBYTEORDER,
} from './nftConstants.ts';
import { attrBe32, attrBe64, attrBytes, attrNest, attrString, encodeDataValue, encodeDataVerdict, encodeExpressions, type NftExpr, type Verdict } from './nftExpressions.ts';

export interface SetElement {
  key: Uint8Array;
  /** Map elements: the verdict (verdict maps) ... */
  verdict?: Verdict;
  /** ... or a data value (data maps). */
  data?: Uint8Array;
  /** NFTA_SET_ELEM_FLAGS (NFT_SET_ELEM_INTERVAL_END for the end of an interval). */
  flags?: number;
}

/** An interval data map (`typeof … : …; flags interval`): endpoint dispatch maps. */
export interface IntervalMapSpec {
  name: string;
  keyType: number;
  keyLen: number;
  dataType: number;
  dataLen: number;
  /** NFTA_SET_USERDATA as nft writes it (byte orders and the typeof expressions, which `nft list` prints). */
  userdata: Uint8Array;
}

/** A dynamic address set with a per-element timeout (`flags dynamic,timeout; timeout Ns`). */
export interface TimeoutSetSpec {
  name: string;
  /** nft datatype of the key (NFT_TYPE_IPADDR / NFT_TYPE_IP6ADDR) and its length in bytes. */
  keyType: number;
  keyLen: number;
  timeoutMs: number;
}

export type NftOp =
  | { op: 'newChain'; chain: string }
  | { op: 'delChain'; chain: string }
  /** DELRULE without a handle: every rule of the chain (`flush chain`). */
  | { op: 'flushChain'; chain: string }
  | { op: 'newRule'; chain: string; exprs: readonly NftExpr[] }
  | { op: 'newSet'; set: TimeoutSetSpec }
  | { op: 'newMap'; map: IntervalMapSpec }
  | { op: 'delSet'; set: string }
  | { op: 'newElems'; set: string; elems: readonly SetElement[] }
  | { op: 'delElems'; set: string; elems: readonly SetElement[] };

export interface NftBatchInput {
  /** nfgen_family of the table (NFPROTO.ip / NFPROTO.ip6). */
  family: number;
  table: string;
  ops: readonly NftOp[];
  /** Sequence number of BATCH_BEGIN; operations follow with seq+1, seq+2, ... */
  seq: number;
}

export interface EncodedBatch {
  bytes: Uint8Array;
  /** seq of BATCH_BEGIN (a commit failure is reported against it) and of the last operation (the ACK). */
  beginSeq: number;
  lastSeq: number;
  /** What operation a seq belongs to, for error messages. */
  describe(seq: number): string;
}

/** Elements per message: keeps NFTA_SET_ELEM_LIST_ELEMENTS under netlink's 64 KiB attribute limit. */
export const ELEMENTS_PER_MESSAGE = 256;

const NFTA_TABLE = 1; // NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE are all 1

function nfgen(w: ByteWriter, family: number, resId: number): void {
  w.u8(family);
  w.u8(0); // NFNETLINK_V0
  w.u8((resId >> 8) & 0xff);
  w.u8(resId & 0xff);
}

function encodeElements(w: ByteWriter, elems: readonly SetElement[]): void {
  attrNest(w, 3, () => { // NFTA_SET_ELEM_LIST_ELEMENTS; libnftnl numbers the entries 1..n
    elems.forEach((e, i) => attrNest(w, i + 1, () => {
      if (e.flags !== undefined) attrBe32(w, 3, e.flags); // NFTA_SET_ELEM_FLAGS, before the key as libnftnl puts it
      encodeDataValue(w, 1, e.key); // NFTA_SET_ELEM_KEY
      if (e.verdict) encodeDataVerdict(w, 2, e.verdict); // NFTA_SET_ELEM_DATA
      else if (e.data) encodeDataValue(w, 2, e.data);
    }));
  });
}

function encodeNewSet(w: ByteWriter, s: TimeoutSetSpec, id: number): void {
  attrString(w, 2, s.name); // NFTA_SET_NAME
  attrBe32(w, 3, NFT_SET_TIMEOUT | NFT_SET_EVAL); // NFTA_SET_FLAGS
  attrBe32(w, 4, s.keyType); // NFTA_SET_KEY_TYPE
  attrBe32(w, 5, s.keyLen); // NFTA_SET_KEY_LEN
  attrBe32(w, 10, id); // NFTA_SET_ID
  attrBe64(w, 11, BigInt(s.timeoutMs)); // NFTA_SET_TIMEOUT
  // NFTA_SET_USERDATA: key byte order, which nft needs to print the elements back.
  attrBytes(w, 13, Uint8Array.of(UDATA_SET_KEYBYTEORDER, 4, BYTEORDER_BIG_ENDIAN, 0, 0, 0));
}

function encodeNewMap(w: ByteWriter, m: IntervalMapSpec, id: number): void {
  attrString(w, 2, m.name); // NFTA_SET_NAME
  attrBe32(w, 3, NFT_SET_INTERVAL | NFT_SET_MAP); // NFTA_SET_FLAGS
  attrBe32(w, 4, m.keyType); // NFTA_SET_KEY_TYPE
  attrBe32(w, 5, m.keyLen); // NFTA_SET_KEY_LEN
  attrBe32(w, 6, m.dataType); // NFTA_SET_DATA_TYPE
  attrBe32(w, 7, m.dataLen); // NFTA_SET_DATA_LEN
  attrBe32(w, 10, id); // NFTA_SET_ID
  attrBytes(w, 13, m.userdata); // NFTA_SET_USERDATA
}

/** [message type, flags, body after NFTA_*_TABLE] of one operation. */
function opMessage(op: NftOp, id: number): [number, number, (w: ByteWriter) => void] {
  const create = NLM_F_REQUEST | NLM_F_CREATE;
  switch (op.op) {
    case 'newChain': return [NFT_MSG.NEWCHAIN, create, (w) => attrString(w, 3, op.chain)];
    case 'delChain': return [NFT_MSG.DELCHAIN, NLM_F_REQUEST, (w) => attrString(w, 3, op.chain)];
    case 'flushChain': return [NFT_MSG.DELRULE, NLM_F_REQUEST, (w) => attrString(w, 2, op.chain)];
    case 'newRule': return [NFT_MSG.NEWRULE, create | NLM_F_APPEND, (w) => { attrString(w, 2, op.chain); encodeExpressions(w, 4, op.exprs); }];
    case 'newSet': return [NFT_MSG.NEWSET, create, (w) => encodeNewSet(w, op.set, id)];
    case 'newMap': return [NFT_MSG.NEWSET, create, (w) => encodeNewMap(w, op.map, id)];
    case 'delSet': return [NFT_MSG.DELSET, NLM_F_REQUEST, (w) => attrString(w, 2, op.set)];
    case 'newElems': return [NFT_MSG.NEWSETELEM, create, (w) => { attrString(w, 2, op.set); encodeElements(w, op.elems); }];
    case 'delElems': return [NFT_MSG.DELSETELEM, NLM_F_REQUEST, (w) => { attrString(w, 2, op.set); encodeElements(w, op.elems); }];
  }
}

export function describeOp(op: NftOp): string {
  switch (op.op) {
    case 'newChain': return `creating chain ${op.chain}`;
    case 'delChain': return `deleting chain ${op.chain}`;
    case 'flushChain': return `flushing chain ${op.chain}`;
    case 'newRule': return `adding a rule to chain ${op.chain}`;
    case 'newSet': return `creating set ${op.set.name}`;
    case 'newMap': return `creating map ${op.map.name}`;
    case 'delSet': return `deleting set ${op.set}`;
    case 'newElems': return `adding ${op.elems.length} element(s) to ${op.set}`;
    case 'delElems': return `deleting ${op.elems.length} element(s) from ${op.set}`;
  }
}

/** Split element operations so no message exceeds ELEMENTS_PER_MESSAGE. */
function chunked(ops: readonly NftOp[]): NftOp[] {
  const out: NftOp[] = [];
  for (const op of ops) {
    if ((op.op === 'newElems' || op.op === 'delElems') && op.elems.length > ELEMENTS_PER_MESSAGE) {
      for (let i = 0; i < op.elems.length; i += ELEMENTS_PER_MESSAGE) out.push({ ...op, elems: op.elems.slice(i, i + ELEMENTS_PER_MESSAGE) });
    } else if ((op.op !== 'newElems' && op.op !== 'delElems') || op.elems.length > 0) {
      out.push(op);
    }
  }
  return out;
}

/** The whole transaction as one datagram. Throws NetlinkEncodeError for an empty transaction. */
export function encodeNftBatch(input: NftBatchInput): EncodedBatch {
  const ops = chunked(input.ops);
  if (ops.length === 0) throw new NetlinkEncodeError('an nf_tables batch needs at least one operation');
  const w = new ByteWriter(4096);
  const resId = NFNL_SUBSYS_NFTABLES;
  encodeMessage(w, { type: NFNL_MSG_BATCH_BEGIN, flags: NLM_F_REQUEST, seq: input.seq, pid: 0 }, (b) => nfgen(b, 0, resId));
  let seq = input.seq;
  let setId = 0;
  ops.forEach((op, i) => {
    const [type, flags, body] = opMessage(op, op.op === 'newSet' || op.op === 'newMap' ? ++setId : 0);
    const ack = i === ops.length - 1 ? NLM_F_ACK : 0;
    encodeMessage(w, { type: (NFNL_SUBSYS_NFTABLES << 8) | type, flags: flags | ack, seq: ++seq, pid: 0 }, (b) => {
      nfgen(b, input.family, 0);
      attrString(b, NFTA_TABLE, input.table);
      body(b);
    });
  });
  const lastSeq = seq;
  encodeMessage(w, { type: NFNL_MSG_BATCH_END, flags: NLM_F_REQUEST, seq: ++seq, pid: 0 }, (b) => nfgen(b, 0, resId));
  const begin = input.seq;
  return {
    bytes: w.finish(), beginSeq: begin, lastSeq,
    describe: (s) => (s === begin ? 'committing the nf_tables batch' : s > begin && s <= lastSeq ? describeOp(ops[s - begin - 1]!) : `message ${s}`),
  };
}
