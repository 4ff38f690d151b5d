/**
 * @module netlink/nftables/nftRuleDump — the rules of ONE chain (NFT_MSG_GETRULE dump filtered by table and chain
 * in the kernel), reduced to the chains their verdicts jump or go to. It is what the proxy's drift check needs:
 * `nft list chain` would first dump every set's elements of the table (its cache: 100,000+ elements at 10,000
 * services); this costs one chain.
 */
import type { ByteWriter } from '../byteWriter.ts';
import type { NetlinkSocket } from '../netlinkSocket.ts';
import { decodeAttrTree, type NlAttrNode } from './nfnlTree.ts';
import { NFNL_SUBSYS_NFTABLES } from './nftConstants.ts';
import { attrString } from './nftExpressions.ts';

const NFT_MSG_GETRULE = 7;
const NFTA_RULE_EXPRESSIONS = 4;

/** Children of an attribute: the kernel's replies do not set NLA_F_NESTED, so the schema says what nests. */
function children(n: NlAttrNode | undefined): NlAttrNode[] {
  if (!n) return [];
  return n.nested ?? decodeAttrTree(Buffer.from(n.hex ?? '', 'hex'));
}

function child(n: NlAttrNode | undefined, type: number): NlAttrNode | undefined {
  return children(n).find((c) => c.type === type);
}

const leafText = (n: NlAttrNode | undefined) => Buffer.from(n?.hex ?? '', 'hex').toString('utf8').replace(/\0+$/, '');

function exprName(e: NlAttrNode): string {
  return leafText(child(e, 1)); // NFTA_EXPR_NAME
}

/** Target chains of the verdicts (immediate jump/goto) of one rule's expressions. */
export function verdictTargets(ruleAttrs: readonly NlAttrNode[]): string[] {
  const exprs = children(ruleAttrs.find((a) => a.type === NFTA_RULE_EXPRESSIONS));
  const out: string[] = [];
  for (const e of exprs) {
    if (exprName(e) !== 'immediate') continue; // only immediates carry verdicts; other data is not nested
    // NFTA_EXPR_DATA → NFTA_IMMEDIATE_DATA → NFTA_DATA_VERDICT → NFTA_VERDICT_CHAIN
    const chain = child(child(child(child(e, 2), 2), 2), 2)?.hex;
    if (chain) out.push(leafText({ type: 0, hex: chain }));
  }
  return out;
}

/** Each rule of `chain` as the list of its verdict targets; [] when the chain is empty or does not exist. */
export async function chainVerdictTargets(sock: NetlinkSocket, family: number, table: string, chain: string): Promise<string[][]> {
  const replies = await sock.dump({
    type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE,
    what: `listing the rules of ${table}/${chain}`,
    body: (w: ByteWriter) => {
      w.u8(family);
      w.u8(0);
      w.u16(0);
      attrString(w, 1, table); // NFTA_RULE_TABLE
      attrString(w, 2, chain); // NFTA_RULE_CHAIN
    },
  });
  return replies.map((m) => verdictTargets(decodeAttrTree(m.payload.subarray(4))));
}

const NFT_MSG_GETSET = 10;

/**
 * Names of every set and map of `table` (NFT_MSG_GETSET dump, filtered by table in the kernel; no elements). What
 * a full sync needs to adopt or delete a previous run's sets: `nft list sets` / `list maps` build nft's cache of
 * every set first, seconds beside 10,000 endpoint maps.
 */
export async function setNames(sock: NetlinkSocket, family: number, table: string): Promise<string[]> {
  const replies = await sock.dump({
    type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSET,
    what: `listing the sets of ${table}`,
    body: (w: ByteWriter) => {
      w.u8(family);
      w.u8(0);
      w.u16(0);
      attrString(w, 1, table); // NFTA_SET_TABLE
    },
  });
  return replies.map((m) => leafText(decodeAttrTree(m.payload.subarray(4)).find((a) => a.type === 2))).filter((n) => n !== ''); // NFTA_SET_NAME
}

const NFT_MSG_GETGEN = 16;
const NFT_MSG_NEWGEN = 15;

/**
 * The nf_tables ruleset generation of the socket's namespace (NFT_MSG_GETGEN → NFTA_GEN_ID). The kernel bumps it
 * on every commit, by anyone, to any table: while it has not moved, nothing in any table has changed.
 */
export async function rulesetGeneration(sock: NetlinkSocket): Promise<number> {
  const replies = await sock.request({
    type: (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
    what: 'reading the nf_tables generation',
    body: (w: ByteWriter) => {
      w.u8(0); // AF_UNSPEC
      w.u8(0);
      w.u16(0);
    },
  });
  const gen = replies.find((m) => (m.type & 0xff) === NFT_MSG_NEWGEN);
  const id = gen && decodeAttrTree(gen.payload.subarray(4)).find((a) => a.type === 1); // NFTA_GEN_ID, be32
  if (!id?.hex) throw new Error('no NFTA_GEN_ID in the NEWGEN reply');
  return Buffer.from(id.hex, 'hex').readUInt32BE(0);
}
