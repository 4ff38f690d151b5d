/**
 * @module netlink/errors — the errors the netlink layer raises, each with a stable `code`.
 *
 * - NetlinkDecodeError: bytes from the kernel (or a fuzzer) that do not parse; says where (offset, attribute path).
 * - NetlinkEncodeError: a request that cannot be encoded (bad address text, value out of range); nothing was sent.
 * - NetlinkKernelError: the kernel answered NLMSG_ERROR; `code` is the errno name, `extack` the kernel's own
 *   explanation (NLMSGERR_ATTR_MSG) when it gave one, and the message names the operation.
 * - NetlinkTimeoutError / NetlinkClosedError: no answer in time, or the socket was closed with requests pending.
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { PodnetError, SystemError, UnsupportedKernelError } from '../common/errors.ts';

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  // Several names share a number (EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP): keep the first, which is the one
  // strerror-style tools print.
  if (!errnoNames.has(num)) errnoNames.set(num, name);
}
errnoNames.set(95, 'EOPNOTSUPP');

/** errno → a short human description ("file already exists"), from libuv's table. */
export function errnoDescription(errno: number): string | undefined {
  if (Math.abs(errno) === 95) return 'operation not supported';
  return getSystemErrorMap().get(-Math.abs(errno))?.[1];
}

/** errno number (positive) → name, e.g. 17 → 'EEXIST'. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `ERRNO_${Math.abs(errno)}`;
}

export class NetlinkDecodeError extends PodnetError {
  readonly offset: number;
  constructor(problem: string, offset: number, where = 'netlink message') {
    super('PODNET_NETLINK_MALFORMED', `malformed ${where} at byte ${offset}: ${problem}`);
    this.offset = offset;
  }
}

export class NetlinkEncodeError extends PodnetError {
  constructor(problem: string) {
    super('PODNET_NETLINK_BAD_REQUEST', `cannot encode netlink request: ${problem}`);
  }
}

export class NetlinkKernelError extends SystemError {
  /** The kernel's extended ack message, e.g. "Unknown device type", when it sent one. */
  readonly extack: string | undefined;
  constructor(what: string, errno: number, extack?: string) {
    super(what, errnoName(errno), Math.abs(errno), 'sendmsg', extack ? `${extack}` : errnoDescription(errno));
    this.extack = extack;
  }
}

export class NetlinkTimeoutError extends PodnetError {
  constructor(what: string, ms: number) {
    super('PODNET_NETLINK_TIMEOUT', `${what}: no answer from the kernel within ${ms} ms`);
  }
}

export class NetlinkClosedError extends PodnetError {
  constructor(what: string) {
    super('PODNET_NETLINK_CLOSED', `${what}: the netlink socket was closed`);
  }
}

/** A link kind the kernel cannot create (no module): keeps the kernel's errno and extack as `cause`. */
export class LinkKindUnsupportedError extends UnsupportedKernelError {
  constructor(kind: string, cause: NetlinkKernelError) {
    super(`link kind "${kind}"`, kind, `the kernel said ${cause.code}${cause.extack ? ` "${cause.extack}"` : ''}; choose another mode (e.g. vxlan or host-gw routing)`);
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

/** Whether an error is a kernel answer with one of the given errno names. */
export function isKernelError(err: unknown, ...codes: string[]): err is NetlinkKernelError {
  return err instanceof NetlinkKernelError && (codes.length === 0 || codes.includes(err.code));
}
