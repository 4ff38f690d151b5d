/**
 * @module lb/interfaceResponder — ARP and NDP answering on one interface: two frame sockets (ETH_P_ARP,
 * ETH_P_IPV6), each frame run through the pure process*Frame, replies sent, every outcome counted by reason.
 * It knows nothing of services: ownership comes from the announcer's `owns` callback.
 */
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/errors.ts';
import { gratuitousArpFrames, processArpFrame, type OwnershipQuery } from './arpResponder.ts';
import type { FrameSocket, OpenFrameSocket } from './frameSocket.ts';
import type { LbMetrics } from './lbMetrics.ts';
import { tryParseIp } from '../common/ipAddress.ts';
import { parseMac } from '../common/macAddress.ts';
import { processNdpFrame, unsolicitedNaFrames } from './ndpResponder.ts';

const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;

export interface InterfaceInfo {
  ifindex: number;
  ifname: string;
  mac: string;
}

export class InterfaceResponder {
  readonly info: InterfaceInfo;
  #mac: Uint8Array;
  #arp: FrameSocket;
  #ndp: FrameSocket;
  #metrics: LbMetrics | undefined;
  #log: Logger;

  constructor(info: InterfaceInfo, open: OpenFrameSocket, owns: OwnershipQuery, log: Logger, metrics?: LbMetrics) {
    this.info = info;
    this.#mac = parseMac(info.mac);
    this.#metrics = metrics;
    this.#log = log.child({ interface: info.ifname });
    const ctx = { ifname: info.ifname, mac: this.#mac, owns };
    const onError = (err: Error) => this.#log.warn({ event: 'socketError', err: describeError(err) }, `packet socket error on ${info.ifname}`);
    this.#arp = open({ ...info, protocol: ETH_P_ARP }, (f) => {
      const out = processArpFrame(f, ctx);
      this.#handle('arp', out);
      if (out.answered) this.#send(this.#arp, out.reply);
    }, onError);
    try {
      this.#ndp = open({ ...info, protocol: ETH_P_IPV6 }, (f) => {
        const out = processNdpFrame(f, ctx);
        // Data frames are the bulk of IPv6 traffic: not worth a metric label.
        if (!out.answered && out.reason === 'notNdp') return;
        this.#handle('ndp', out);
        if (out.answered) this.#send(this.#ndp, out.reply);
      }, onError);
    } catch (err) {
      this.#arp.close();
      throw err;
    }
  }

  #handle(protocol: 'arp' | 'ndp', out: { answered: true; ip: string } | { answered: false; reason: string }): void {
    if (out.answered) {
      this.#metrics?.requestsAnswered.inc({ protocol, interface: this.info.ifname });
      this.#log.debug({ event: 'answered', protocol, ip: out.ip }, `answered ${protocol} for ${out.ip}`);
    } else {
      this.#metrics?.requestsDropped.inc({ protocol, reason: out.reason });
    }
  }

  #send(sock: FrameSocket, frame: Uint8Array): void {
    try {
      sock.send(frame);
    } catch (err) {
      this.#log.warn({ event: 'sendFailed', err: describeError(err) }, `sending on ${this.info.ifname} failed`);
    }
  }

  /** One gratuitous burst for `ip`: GARP request + reply for IPv4, an unsolicited NA (Override) for IPv6. */
  announce(ip: string): void {
    const v6 = tryParseIp(ip)?.family === 6;
    const frames = v6 ? unsolicitedNaFrames(ip, this.#mac) : gratuitousArpFrames(ip, this.#mac);
    for (const f of frames) this.#send(v6 ? this.#ndp : this.#arp, f);
    this.#metrics?.announcementsSent.inc({ protocol: v6 ? 'ndp' : 'arp', interface: this.info.ifname }, frames.length);
  }

  close(): void {
    this.#arp.close();
    this.#ndp.close();
  }
}
