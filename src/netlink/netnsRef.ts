/**
 * @module netlink/netnsRef — turning a namespace reference into what the kernel wants. A socket is *opened* in a
 * namespace by the addon (a path or fd is enough); moving a link or a veth peer needs an fd of the target namespace
 * in this process (IFLA_NET_NS_FD), opened here for the one request and closed right after.
 */
import { closeSync, openSync } from 'node:fs';
import type { NetnsRef } from '../native/types.ts';

/** A bare name means a named namespace (`ip netns add NAME`); anything with a slash is a path; a number an fd. */
export function netnsPath(ref: string): string {
  return ref.includes('/') ? ref : `/var/run/netns/${ref}`;
}

/** Normalise a NetnsRef for the addon: names become /var/run/netns paths. */
export function resolveNetnsRef(ref: NetnsRef): NetnsRef {
  return typeof ref === 'number' ? ref : netnsPath(ref);
}

/** Run `fn` with an fd of the namespace; fds we opened are closed afterwards, fds we were given are not. */
export async function withNetnsFd<T>(ref: NetnsRef | undefined, fn: (fd: number | undefined) => Promise<T>): Promise<T> {
  if (ref === undefined || typeof ref === 'number') return fn(ref);
  const fd = openSync(netnsPath(ref), 'r'); // libuv opens with O_CLOEXEC
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}
