/**
 * @module lb/frameSocket — the one seam between the responders and the kernel: a packet socket on one interface
 * for one ethertype that delivers and sends whole Ethernet frames. `nativeFrameSockets` opens AF_PACKET sockets
 * through the addon inside a namespace (the namespace is a parameter of socket creation, never ambient state);
 * tests pass a fake.
 */
import { native, type NativeError } from '../native/index.ts';
import { SystemError } from '../common/errors.ts';

export interface FrameSocket {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface FrameSocketSpec {
  ifindex: number;
  ifname: string;
  /** Ethertype, host order (0x0806 ARP, 0x86dd IPv6). */
  protocol: number;
}

export type OpenFrameSocket = (spec: FrameSocketSpec, onFrame: (frame: Uint8Array) => void, onError: (err: Error) => void) => FrameSocket;

export function nativeFrameSockets(netns?: string): OpenFrameSocket {
  return (spec, onFrame, onError) => {
    let fd: number;
    try {
      fd = native.openPacket({ netns, ifindex: spec.ifindex, protocol: spec.protocol });
    } catch (err) {
      const e = err as NativeError;
      throw new SystemError(`opening a packet socket (ethertype 0x${spec.protocol.toString(16)}) on ${spec.ifname}`, e.code ?? 'EUNKNOWN', e.errno ?? 0, e.syscall ?? 'socket', e.message);
    }
    native.startReading(fd, (err, data) => {
      if (err) onError(new SystemError(`reading ${spec.ifname}`, err.code, err.errno, err.syscall));
      else if (data) onFrame(data);
    }, 2048);
    native.setRef(fd, false);
    return {
      send: (frame) => { native.send(fd, frame); },
      close: () => native.close(fd),
    };
  };
}
