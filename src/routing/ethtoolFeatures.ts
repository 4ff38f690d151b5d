/**
 * @module routing/ethtoolFeatures — `ethtool -K DEV tx-checksum-ip-generic off` without the ethtool binary, over
 * the ETHTOOL generic netlink family (include/uapi/linux/ethtool_netlink.h, kernel ≥ 5.6).
 *
 * Why: with TX checksum offload on the VXLAN device, the inner UDP/TCP checksum of packets that were SNATed on
 * the way into the tunnel can be left wrong, and the receiver drops them: the "63-second stall" of
 * flannel#1279/#2152 and projectcalico/calico#3145 (SYN retries 1+2+4+8+16+32 s). Calico turns offload off on
 * kernels ≤ 5.7; flannel documents the ethtool command; reports continue on newer kernels behind NAT, so podnet
 * turns it off on its tunnel device always. The cost is a software checksum per packet on a software device.
 */
import type { NetnsRef } from '../native/types.ts';
import { GenericNetlink } from '../netlink/index.ts';
import { bodyCodec } from '../netlink/codec.ts';
import type { AttrsOf } from '../netlink/attributes.ts';
import { GENLMSGHDR } from '../netlink/structs.ts';

const ETHTOOL_GENL_NAME = 'ethtool';
const ETHTOOL_GENL_VERSION = 1;
const ETHTOOL_MSG_FEATURES_GET = 11;
const ETHTOOL_MSG_FEATURES_SET = 12;

const HEADER = {
  ETHTOOL_A_HEADER_DEV_INDEX: { type: 1, kind: 'u32' },
  ETHTOOL_A_HEADER_DEV_NAME: { type: 2, kind: 'string' },
  ETHTOOL_A_HEADER_FLAGS: { type: 3, kind: 'u32' },
} as const;
const BIT = {
  ETHTOOL_A_BITSET_BIT_INDEX: { type: 1, kind: 'u32' },
  ETHTOOL_A_BITSET_BIT_NAME: { type: 2, kind: 'string' },
  ETHTOOL_A_BITSET_BIT_VALUE: { type: 3, kind: 'flag' },
} as const;
// ETHTOOL_A_BITSET_BITS holds ETHTOOL_A_BITSET_BITS_BIT (type 1) entries; the 'array' kind numbers children 1..n,
// which is exact for the single bit we send and harmless when decoding (types are ignored there).
const BITSET = {
  ETHTOOL_A_BITSET_NOMASK: { type: 1, kind: 'flag' },
  ETHTOOL_A_BITSET_SIZE: { type: 2, kind: 'u32' },
  ETHTOOL_A_BITSET_BITS: { type: 3, kind: 'array', spec: BIT },
} as const;
const FEATURES = {
  ETHTOOL_A_FEATURES_HEADER: { type: 1, kind: 'nested', spec: HEADER },
  ETHTOOL_A_FEATURES_HW: { type: 2, kind: 'nested', spec: BITSET },
  ETHTOOL_A_FEATURES_WANTED: { type: 3, kind: 'nested', spec: BITSET },
  ETHTOOL_A_FEATURES_ACTIVE: { type: 4, kind: 'nested', spec: BITSET },
} as const;

const featuresBody = bodyCodec('ethtool features', GENLMSGHDR, FEATURES);
type FeatureAttrs = AttrsOf<typeof FEATURES>;

/** The feature the VXLAN driver exposes for its (software) checksum offload (NETIF_F_HW_CSUM). */
export const TX_CHECKSUM_FEATURE = 'tx-checksum-ip-generic';

async function withEthtool<T>(netns: NetnsRef | undefined, fn: (genl: GenericNetlink, family: number) => Promise<T>): Promise<T> {
  const genl = await GenericNetlink.open(netns === undefined ? {} : { netns });
  try {
    const family = await genl.getFamily(ETHTOOL_GENL_NAME);
    return await fn(genl, family.id);
  } finally {
    genl.close();
  }
}

/** Turn one offload feature on or off (verbose bitset without NOMASK: only the named bit changes). */
export async function setFeature(netns: NetnsRef | undefined, dev: string, feature: string, on: boolean): Promise<void> {
  await withEthtool(netns, (genl, family) => genl.socket.request({
    type: family,
    what: `setting ${feature} ${on ? 'on' : 'off'} on ${dev} (ethtool netlink)`,
    body: (w) => featuresBody.encode(w, { cmd: ETHTOOL_MSG_FEATURES_SET, version: ETHTOOL_GENL_VERSION }, {
      ETHTOOL_A_FEATURES_HEADER: { ETHTOOL_A_HEADER_DEV_NAME: dev },
      ETHTOOL_A_FEATURES_WANTED: { ETHTOOL_A_BITSET_BITS: [{ ETHTOOL_A_BITSET_BIT_NAME: feature, ...(on ? { ETHTOOL_A_BITSET_BIT_VALUE: true } : {}) }] },
    } satisfies FeatureAttrs),
  }));
}

/** The active features of a device by name (what `ethtool -k DEV` prints as on). */
export async function activeFeatures(netns: NetnsRef | undefined, dev: string): Promise<Set<string>> {
  return withEthtool(netns, async (genl, family) => {
    const replies = await genl.socket.request({
      type: family,
      what: `reading features of ${dev} (ethtool netlink)`,
      body: (w) => featuresBody.encode(w, { cmd: ETHTOOL_MSG_FEATURES_GET, version: ETHTOOL_GENL_VERSION }, {
        ETHTOOL_A_FEATURES_HEADER: { ETHTOOL_A_HEADER_DEV_NAME: dev },
      }),
    });
    const reply = replies.find((m) => m.type === family);
    const active = reply ? featuresBody.decode(reply.payload).attrs.ETHTOOL_A_FEATURES_ACTIVE : undefined;
    // A value-only (NOMASK) bitset lists just the bits that are set; a value/mask one flags them with BIT_VALUE.
    const bits = (active?.ETHTOOL_A_BITSET_BITS ?? []).filter((b) => active?.ETHTOOL_A_BITSET_NOMASK || b.ETHTOOL_A_BITSET_BIT_VALUE);
    return new Set(bits.map((b) => b.ETHTOOL_A_BITSET_BIT_NAME ?? ''));
  });
}
