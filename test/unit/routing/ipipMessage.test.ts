/**
 * The ipip device request podnet sends, against the one iproute2 sends for
 * `ip link add podnet.ipip type ipip local 198.18.0.11 dev under0` (under0 = ifindex 3), captured with
 * `strace -f -e trace=sendmsg -xx` in a namespace of this machine (the kernel has no ipip module: it answered
 * EOPNOTSUPP "Unknown device type", after which podnetd refuses to start with --backend ipip).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { decodeMessages } from '../../../src/netlink/codec.ts';
import { NLM_F_ACK, NLM_F_REQUEST, RTM_NEWLINK } from '../../../src/netlink/constants.ts';
import { linkCreateRequest } from '../../../src/netlink/rtnetlink/linkCodec.ts';
import { linkBody, type IptunAttrs } from '../../../src/netlink/specs/linkSpec.ts';

function fixture(): Uint8Array {
  const hex = readFileSync(new URL('./fixtures/ipip-newlink-iproute2.hex', import.meta.url), 'utf8').replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

test('our RTM_NEWLINK for the ipip device says what iproute2\'s says', (t) => {
  const [theirs] = decodeMessages(fixture());
  const ours = linkCreateRequest({ kind: 'ipip', name: 'podnet.ipip', local: '198.18.0.11' }, { dev: 3 });
  t.is(theirs!.type, RTM_NEWLINK);
  t.is(ours.type, RTM_NEWLINK);
  t.is(theirs!.flags, NLM_F_REQUEST | NLM_F_ACK | ours.flags!, 'create + exclusive, like ip');
  const a = linkBody.decode(theirs!.payload);
  const b = linkBody.decode(ours.body);
  t.is(b.attrs.IFLA_IFNAME, a.attrs.IFLA_IFNAME);
  t.is(b.attrs.IFLA_LINKINFO?.IFLA_INFO_KIND, 'ipip');
  t.is(a.attrs.IFLA_LINKINFO?.IFLA_INFO_KIND, 'ipip');
  const theirData = a.attrs.IFLA_LINKINFO?.IFLA_INFO_DATA as IptunAttrs;
  const ourData = b.attrs.IFLA_LINKINFO?.IFLA_INFO_DATA as IptunAttrs;
  t.is(ourData.IFLA_IPTUN_LOCAL, theirData.IFLA_IPTUN_LOCAL);
  t.is(ourData.IFLA_IPTUN_LINK, theirData.IFLA_IPTUN_LINK);
  // iproute2 also sends TTL 0 (inherit), TOS 0 (inherit) and PMTUDISC 1: the kernel's defaults when absent
  // (ipip_netlink_parms), and zero ENCAP_*/FWMARK/PROTO. Its PROTO 0 means "any" (IPIP and MPLS-in-IP); we leave
  // it out and get the kernel default IPPROTO_IPIP, which is all podnet sends.
  t.is(theirData.IFLA_IPTUN_TTL, 0);
  t.is(theirData.IFLA_IPTUN_TOS, 0);
  t.is(theirData.IFLA_IPTUN_PMTUDISC, 1);
  t.is(ourData.IFLA_IPTUN_REMOTE, undefined, 'remote any, like ip without "remote"');
  t.is(theirData.IFLA_IPTUN_REMOTE, undefined);
});
