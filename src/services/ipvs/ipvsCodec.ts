/**
 * @module services/ipvs/ipvsCodec — generic netlink IPVS messages (linux/ip_vs.h), encoded exactly as ipvsadm
 * 1.31 (libipvs) sends them: every service carries AF, protocol, address, port, scheduler, flags, timeout and
 * netmask; every destination AF, address, port, forwarding method, weight, thresholds and tunnel fields.
 * Pure: bytes in, bytes out. Verified byte for byte against captured ipvsadm requests (test/unit/services/
 * testdata/ipvsadm-captures.json, made with strace — see src/services/README.md).
 */
import { PodnetError } from '../../common/errors.ts';
import { ipToBytes, tryParseIp } from '../../common/ipAddress.ts';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'sed', 'nq'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export const IpvsCmd = { NEW_SERVICE: 1, SET_SERVICE: 2, DEL_SERVICE: 3, NEW_DEST: 5, SET_DEST: 6, DEL_DEST: 7 } as const;
export type IpvsCmdName = keyof typeof IpvsCmd;

const CMD_ATTR_SERVICE = 1;
const CMD_ATTR_DEST = 2;
const SVC = { AF: 1, PROTOCOL: 2, ADDR: 3, PORT: 4, SCHED_NAME: 6, FLAGS: 7, TIMEOUT: 8, NETMASK: 9 } as const;
const DEST = { ADDR: 1, PORT: 2, FWD_METHOD: 3, WEIGHT: 4, U_THRESH: 5, L_THRESH: 6, ADDR_FAMILY: 11, TUN_TYPE: 13, TUN_PORT: 14, TUN_FLAGS: 15 } as const;
const NLA_F_NESTED = 0x8000;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const AF_INET = 2;
const AF_INET6 = 10;
const PROTO = { tcp: 6, udp: 17, sctp: 132 } as const;
/** IP_VS_SVC_F_PERSISTENT: ClientIP affinity. */
const SVC_F_PERSISTENT = 0x1;
/** Forwarding methods (IP_VS_CONN_F_*): a proxy on the node only ever masquerades (NAT). */
export const FWD_MASQ = 0;
/** Direct routing: ipvsadm's default when no -m/-g/-i is given (seen in its delete requests). */
export const FWD_DROUTE = 3;

export interface IpvsService {
  address: string;
  protocol: keyof typeof PROTO;
  port: number;
  scheduler: Scheduler;
  /** ClientIP affinity timeout in seconds; 0 = none. */
  persistentSeconds?: number;
}

export interface IpvsDestination {
  address: string;
  port: number;
  weight: number;
  forward?: number;
}

export interface NlHeader {
  familyId: number;
  seq: number;
  pid: number;
}

function attr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}
const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const be16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const nested = (type: number, parts: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(parts));

/** union nf_inet_addr: 16 bytes, IPv4 in the first 4. */
export function inetAddr(ip: string): { af: number; bytes: Buffer } {
  const addr = tryParseIp(ip);
  if (!addr) throw new PodnetError('PODNET_IPVS_BAD_ADDRESS', `IPVS: "${ip}" is not an IP address`);
  const bytes = Buffer.alloc(16);
  bytes.set(ipToBytes(addr));
  return { af: addr.family === 4 ? AF_INET : AF_INET6, bytes };
}

function serviceAttr(s: IpvsService, schedulerName: string, withFlags: boolean): Buffer {
  const { af, bytes } = inetAddr(s.address);
  const persistent = (s.persistentSeconds ?? 0) > 0;
  const flags = Buffer.concat([u32(withFlags && persistent ? SVC_F_PERSISTENT : 0), u32(0xffffffff)]);
  return nested(CMD_ATTR_SERVICE, [
    attr(SVC.AF, u16(af)),
    attr(SVC.PROTOCOL, u16(PROTO[s.protocol])),
    attr(SVC.ADDR, bytes),
    attr(SVC.PORT, be16(s.port)),
    attr(SVC.SCHED_NAME, Buffer.from(`${schedulerName}\0`)),
    attr(SVC.FLAGS, flags),
    attr(SVC.TIMEOUT, u32(withFlags && persistent ? s.persistentSeconds! : 0)),
    attr(SVC.NETMASK, u32(af === AF_INET ? 0xffffffff : 128)),
  ]);
}

function destAttr(d: IpvsDestination): Buffer {
  const { af, bytes } = inetAddr(d.address);
  return nested(CMD_ATTR_DEST, [
    attr(DEST.ADDR_FAMILY, u16(af)),
    attr(DEST.ADDR, bytes),
    attr(DEST.PORT, be16(d.port)),
    attr(DEST.FWD_METHOD, u32(d.forward ?? FWD_MASQ)),
    attr(DEST.WEIGHT, u32(d.weight)),
    attr(DEST.TUN_TYPE, Buffer.from([0])),
    attr(DEST.TUN_PORT, be16(0)),
    attr(DEST.TUN_FLAGS, u16(0)),
    attr(DEST.U_THRESH, u32(0)),
    attr(DEST.L_THRESH, u32(0)),
  ]);
}

function message(cmd: number, body: Buffer[], h: NlHeader): Buffer {
  const payload = Buffer.concat([Buffer.from([cmd, IPVS_GENL_VERSION, 0, 0]), ...body]);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + payload.length, 0);
  hdr.writeUInt16LE(h.familyId, 4);
  hdr.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  hdr.writeUInt32LE(h.seq >>> 0, 8);
  hdr.writeUInt32LE(h.pid >>> 0, 12);
  return Buffer.concat([hdr, payload]);
}

export function checkScheduler(name: string): Scheduler {
  if ((SCHEDULERS as readonly string[]).includes(name)) return name as Scheduler;
  throw new PodnetError('PODNET_IPVS_BAD_SCHEDULER', `IPVS scheduler "${name}" is not supported (one of ${SCHEDULERS.join(', ')})`);
}

/** NEW_SERVICE / SET_SERVICE / DEL_SERVICE. Like ipvsadm, a delete names no scheduler and no flags. */
export function encodeServiceMessage(cmd: 'NEW_SERVICE' | 'SET_SERVICE' | 'DEL_SERVICE', s: IpvsService, h: NlHeader): Buffer {
  const del = cmd === 'DEL_SERVICE';
  return message(IpvsCmd[cmd], [serviceAttr(s, del ? '' : checkScheduler(s.scheduler), !del)], h);
}

/** NEW_DEST / SET_DEST / DEL_DEST: the service is named by address/protocol/port (no scheduler), then the dest. */
export function encodeDestMessage(cmd: 'NEW_DEST' | 'SET_DEST' | 'DEL_DEST', s: Omit<IpvsService, 'scheduler'>, d: IpvsDestination, h: NlHeader): Buffer {
  return message(IpvsCmd[cmd], [serviceAttr({ ...s, scheduler: 'rr', persistentSeconds: 0 }, '', false), destAttr(d)], h);
}
