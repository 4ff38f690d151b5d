/**
 * @module netlink/nftables/nftConstants — numbers from linux/netfilter/nfnetlink.h and nf_tables.h, kernel names
 * kept. Only what podnet's incremental proxy path sends.
 */

/** nfnetlink subsystem of nf_tables (NFNL_SUBSYS_NFTABLES): the high byte of nlmsg_type. */
export const NFNL_SUBSYS_NFTABLES = 10;
/** Batch delimiters (NLMSG_MIN_TYPE, NLMSG_MIN_TYPE + 1); their res_id names the subsystem. */
export const NFNL_MSG_BATCH_BEGIN = 16;
export const NFNL_MSG_BATCH_END = 17;

export const NFT_MSG = {
  NEWTABLE: 0, NEWCHAIN: 3, DELCHAIN: 5, NEWRULE: 6, DELRULE: 8, NEWSET: 9, DELSET: 11, NEWSETELEM: 12, DELSETELEM: 14,
} as const;

/** nfgenmsg.nfgen_family for the tables podnet owns. */
export const NFPROTO = { ip: 2, ip6: 10 } as const;

/** Verdict codes (NF_DROP, NF_ACCEPT, NFT_JUMP, NFT_GOTO, NFT_RETURN) as the kernel's signed int. */
export const VERDICT = { drop: 0, accept: 1, jump: -3, goto: -4, return: -5 } as const;

export const NFT_REG_VERDICT = 0;
export const NFT_REG_1 = 1;
export const NFT_REG_2 = 2;

export const NFT_PAYLOAD_BASE = { network: 1, transport: 2 } as const;
export const NFT_CMP_EQ = 0;
export const NFT_CMP_NEQ = 1;
export const NFT_META_L4PROTO = 16;
export const NFT_LOOKUP_F_INV = 1;
export const NFT_NG_RANDOM = 1;
export const NFT_BYTEORDER_HTON = 1;
/** NFT_SET_ELEM_INTERVAL_END: the element closes the interval its predecessor opened. */
export const NFT_SET_ELEM_INTERVAL_END = 1;
/** NFT_REG32_01: the second 32-bit register, where a concatenated `ip daddr . port` puts the port. */
export const NFT_REG32_01 = 9;
export const NFT_DYNSET_OP_UPDATE = 1;
export const NFT_NAT_DNAT = 1;
/** NF_NAT_RANGE_PROTO_SPECIFIED: the nat expression carries a port register. */
export const NF_NAT_RANGE_PROTO_SPECIFIED = 2;
export const NFTA_FIB_F_SADDR = 1;
export const NFT_FIB_RESULT_ADDRTYPE = 3;
/** RTN_LOCAL: `fib ... type local`. */
export const RTN_LOCAL = 2;

/** Set flags (NFT_SET_*). */
export const NFT_SET_INTERVAL = 0x4;
export const NFT_SET_MAP = 0x8;
export const NFT_SET_TIMEOUT = 0x10;
export const NFT_SET_EVAL = 0x20;

/** nft's datatype numbers (src/datatype.h), which it stores as NFTA_SET_KEY_TYPE. */
export const NFT_TYPE_INTEGER = 4;
export const NFT_TYPE_IPADDR = 7;
export const NFT_TYPE_IP6ADDR = 8;
export const NFT_TYPE_INET_SERVICE = 13;
/** nft's concatenated datatype id: each component's id shifted in, 6 bits apiece (TYPE_BITS). */
export function concatTypeId(...ids: number[]): number {
  return ids.reduce((acc, id) => (acc << 6) | id, 0);
}
/** nftnl userdata: NFTNL_UDATA_SET_KEYBYTEORDER with BYTEORDER_BIG_ENDIAN, as nft writes for address sets. */
export const UDATA_SET_KEYBYTEORDER = 0;
export const BYTEORDER_BIG_ENDIAN = 2;
