/**
 * @module netlink/socketTypes — the options, request shape and syscall seam of NetlinkSocket.
 */
import type { NativeBinding, NetnsRef } from '../native/types.ts';
import type { ByteWriter } from './byteWriter.ts';
import type { NetlinkMessage } from './codec.ts';

/** The part of the native binding a netlink socket uses: the seam unit tests replace with a fake kernel. */
export type NetlinkSyscalls = Pick<NativeBinding,
  'openNetlink' | 'netlinkPortId' | 'addMembership' | 'setsockoptInt' | 'send' | 'startReading' | 'stopReading' | 'setRef' | 'close'>;

export interface NetlinkSocketOptions {
  /** NETLINK_ROUTE (default), NETLINK_GENERIC, ... */
  protocol?: number;
  /** Namespace the socket lives in (path or fd); default: the process's. */
  netns?: NetnsRef;
  /** Multicast groups (1-based numbers) to join: makes this an event socket. */
  groups?: number[];
  /** Per-request time limit; default 30 s (deleting a link waits for an RCU barrier, tens of ms each). */
  timeoutMs?: number;
  /** Requests awaiting an answer at once; default 256. */
  maxInFlight?: number;
  /** Bytes per sendmsg when several requests are queued; default 32 KiB. */
  maxBatchBytes?: number;
  /** Receive buffer; default 4 MiB. */
  rcvbuf?: number;
  /** How often a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is restarted; default 5. */
  dumpRetries?: number;
  /** Defaults to the podnet native addon. */
  binding?: NetlinkSyscalls;
}

/** What to send: message type, extra flags (NLM_F_CREATE...), a body writer, and a description for errors. */
export interface NetlinkRequest {
  type: number;
  flags?: number;
  body?: (w: ByteWriter) => void;
  /** Noun phrase for errors: "creating link veth0". */
  what: string;
}

export interface NetlinkSocketEvents {
  /** A multicast (event) message, with the groups bitmask it was delivered for. */
  message: [msg: NetlinkMessage, groups: number];
  /** A read error or an undecodable datagram; ENOBUFS on an event socket means events were lost: resync. */
  error: [err: Error];
}
