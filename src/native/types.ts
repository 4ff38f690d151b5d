/**
 * @module native/types — the contract of the small C++ addon (native/*.cc, see native/README.md).
 *
 * The addon is a thin syscall shim: it opens sockets *inside a given network namespace* (the namespace is a
 * parameter of socket creation, never ambient process state — switching namespaces on a shared thread is the trap
 * described in the CNI reference's pkg/ns README), sends, and delivers received datagrams through libuv (uv_poll,
 * no threads, a bounded number of reads per wake). Every protocol is encoded and decoded in TypeScript.
 *
 * Errors thrown or passed to callbacks are `NativeError`s: `code` is the errno name (e.g. 'ENOENT'), `errno` the
 * number, `syscall` the failing call, and the message says what was being done.
 */

/** A namespace reference: a path such as /var/run/netns/NAME or /proc/PID/ns/net, or an open fd of one. */
export type NetnsRef = string | number;

export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/** Where a datagram came from, as far as the socket family knows. */
export interface RecvInfo {
  /** AF_NETLINK: the sender's port id (0 = kernel). AF_PACKET: the interface index (prefer `ifindex`). */
  portId?: number;
  /** AF_NETLINK: the multicast groups bitmask the message was delivered for. */
  groups?: number;
  /** AF_PACKET: ethertype in host order, packet type (PACKET_HOST, PACKET_BROADCAST...), source hardware address. */
  protocol?: number;
  pktType?: number;
  hwAddr?: Uint8Array;
  /** AF_PACKET: the receiving interface; AF_INET6 raw: the interface the packet arrived on (IPV6_PKTINFO). */
  ifindex?: number;
  /** AF_INET6 raw: the source address, 16 bytes; hop limit when IPV6_RECVHOPLIMIT is on. */
  address?: Uint8Array;
  hopLimit?: number;
}

export type ReceiveCallback = (err: NativeError | null, data: Uint8Array | null, info: RecvInfo | null) => void;

export interface OpenNetlinkOptions {
  /** NETLINK_ROUTE = 0, NETLINK_NETFILTER = 12, NETLINK_GENERIC = 16. */
  protocol: number;
  netns?: NetnsRef;
  /** Legacy group bitmask for bind(); use addMembership for group numbers above 32. */
  groups?: number;
  /** SO_RCVBUF(FORCE) in bytes, for event sockets that must not overflow. */
  rcvbuf?: number;
  /** NETLINK_GET_STRICT_CHK: the kernel honours filters in dump requests (e.g. routes of one table) and rejects
   * malformed headers instead of ignoring them. Off by default. */
  strictCheck?: boolean;
}

export interface OpenPacketOptions {
  netns?: NetnsRef;
  /** Interface to bind to (index in that namespace). */
  ifindex: number;
  /** Ethertype in host order, e.g. 0x0806 for ARP, 0x86dd for IPv6. */
  protocol: number;
  /** PACKET_IGNORE_OUTGOING: do not receive frames this host sends on the interface (pktType PACKET_OUTGOING).
   * Only matters with protocol ETH_P_ALL: sockets bound to one ethertype never see transmitted frames. */
  ignoreOutgoing?: boolean;
}

export interface OpenIcmp6Options {
  netns?: NetnsRef;
  /** Bind to a device (SO_BINDTODEVICE) by name. */
  device?: string;
  /** ICMP6_FILTER: deliver only these ICMPv6 types (e.g. [135, 136] for neighbour solicitation/advertisement).
   * Without it every ICMPv6 message of the namespace is delivered. */
  icmpTypes?: number[];
}

export interface OpenSocketOptions {
  netns?: NetnsRef;
  /** AF_INET = 2, AF_INET6 = 10, ... */
  domain: number;
  /** SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3 (non-blocking and close-on-exec are always added). */
  type: number;
  protocol?: number;
}

/** Buffers shared between JS and a batch reader (`startBatchReading`); the addon keeps them alive while reading. */
export interface BatchBuffers {
  /** `lengths.length` slots of `slotSize` bytes: datagram i is at i * slotSize. */
  data: Uint8Array;
  /** Per slot, the datagram's length, or -1 when it was longer than the slot (then it is to be dropped). */
  lengths: Int32Array;
  /** Per slot, the sender's sockaddr (sockaddr_in or sockaddr_in6, host-order family first) in 28 bytes. */
  peers: Uint8Array;
}

/** Called with the number of datagrams now in the shared slots (valid until the callback returns), or an error. */
export type BatchCallback = (err: NativeError | null, count: number) => void;

export interface NativeBinding {
  /** Open a non-blocking, close-on-exec AF_NETLINK socket inside `netns` and bind it; returns the fd. */
  openNetlink(opts: OpenNetlinkOptions): number;
  /** The port id the kernel assigned to a bound netlink socket. */
  netlinkPortId(fd: number): number;
  /** NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP for group numbers (1-based). */
  addMembership(fd: number, group: number): void;
  dropMembership(fd: number, group: number): void;
  /** Open an AF_PACKET SOCK_RAW socket bound to `ifindex` for `protocol`. */
  openPacket(opts: OpenPacketOptions): number;
  /** Open a raw ICMPv6 socket (for NDP), optionally bound to a device. */
  openIcmp6(opts: OpenIcmp6Options): number;
  /**
   * Open any socket inside `netns` (e.g. a TCP listener for BGP or a UDP socket for DNS in a node's namespace);
   * hand the fd to Node with `net.Server#listen({ fd })` or `dgram`-free code paths. Closed with `close()`.
   */
  openSocket(opts: OpenSocketOptions): number;
  /** setsockopt with an integer value. */
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  /**
   * Send one datagram. For netlink `dest` is a port id (0 = kernel) and ignored otherwise; for packet sockets the
   * frame is sent on the bound interface; for ICMPv6 `dest` is a 16-byte address and `ifindex` scopes link-local.
   * Returns the number of bytes sent; throws EAGAIN when the socket buffer is full.
   */
  send(fd: number, data: Uint8Array, dest?: number | Uint8Array, ifindex?: number): number;
  /**
   * Start delivering received datagrams to `cb` from the libuv loop. At most a bounded number of datagrams is read
   * per wake so one busy socket cannot starve the loop. `bufferSize` is the largest datagram expected (default
   * 65536). Errors go to `cb` too: socket errors (netlink ENOBUFS = events were lost, resync with a dump; packet
   * ENETDOWN) and EMSGSIZE (a datagram larger than `bufferSize`, dropped) leave the reader running; a failure of
   * the poll itself stops it. Throws TypeError if `fd` is already being read.
   */
  startReading(fd: number, cb: ReceiveCallback, bufferSize?: number): void;
  stopReading(fd: number): void;
  /** Whether a started reader keeps the event loop alive (like socket.ref()/unref()). */
  setRef(fd: number, ref: boolean): void;
  /**
   * Stop reading (if started) and close the fd. Only fds this addon opened (open*) are closed, so a second close
   * of the same fd is a no-op; for any other fd it only stops the reader.
   */
  close(fd: number): void;
  /**
   * open(2) a file with the given flags *as seen from inside `netns`* (e.g. /proc/sys/net/... ); returns an fd
   * (close-on-exec; the caller closes it, e.g. with fs.closeSync). For /proc/net files use /proc/thread-self/net/...:
   * /proc/self and /proc/net name the process's main thread, which stays in its own namespace.
   */
  openInNetns(netns: NetnsRef, path: string, flags: number, mode?: number): number;
  /** Create a named namespace the way `ip netns add NAME` does (bind mount under /var/run/netns). */
  netnsAdd(name: string): void;
  /** Remove it the way `ip netns del NAME` does (umount, unlink). Missing name = ENOENT. */
  netnsDelete(name: string): void;
  /**
   * TCP_MD5SIG on a TCP socket fd for a peer address (RFC 2385), used by the BGP speaker. `peer` is 4 or 16 bytes
   * (an IPv4 peer on an IPv6 socket is keyed as v4-mapped); `key` is at most 80 bytes, and an empty key removes it.
   */
  setTcpMd5(fd: number, peer: Uint8Array, key: Uint8Array): void;
  /*
   * Batched UDP (native/udpBatch.cc), used by the DNS server's hot path. Optional: an addon built before them lacks
   * them, and their user then falls back to node:dgram.
   */
  /** bind(2) an AF_INET (4-byte address) or AF_INET6 (16-byte) socket; returns the bound port. */
  bindInet?(fd: number, address: Uint8Array, port: number): number;
  /**
   * Read a UDP socket with recvmmsg into `buffers` (at most `lengths.length` ≤ 1024 datagrams per call of `cb`, a
   * few batches per loop wake). `slotSize` is 512..65536. Throws TypeError if `fd` is already being read.
   */
  startBatchReading?(fd: number, buffers: BatchBuffers, slotSize: number, cb: BatchCallback): void;
  stopBatchReading?(fd: number): void;
  /**
   * sendmmsg: datagram i is `data[desc[3i] .. desc[3i] + desc[3i+1])` to the sockaddr at `peers[desc[3i+2]]`.
   * Returns how many were sent: a full socket buffer ends the batch early (the rest are dropped, as UDP may), a
   * datagram the kernel refuses is skipped.
   */
  sendBatch?(fd: number, data: Uint8Array, desc: Int32Array, count: number, peers: Uint8Array): number;
}
