/**
 * The IPVS generic netlink codec, byte for byte against what ipvsadm 1.31 sends. testdata/ipvsadm-captures.json
 * holds the generic netlink payload (genl header + attributes) of each command, captured with
 * `strace -f -s 4096 -e trace=sendmsg -xx ipvsadm ...` inside a namespace (recipe in src/services/README.md);
 * `nlmsgFlags` is the header's flags. Sequence number and port id vary per run and are not compared.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { encodeServiceMessage, encodeDestMessage, checkScheduler, FWD_DROUTE, type IpvsService, type NlHeader } from '../../../src/services/ipvs/ipvsCodec.ts';

interface Capture { ipvsadm: string; nlmsgFlags: string; genl: string }
const captures = JSON.parse(readFileSync(new URL('./testdata/ipvsadm-captures.json', import.meta.url), 'utf8')) as Capture[];
const H: NlHeader = { familyId: 0x30, seq: 7, pid: 9 };

const svc = (address: string, port: number, scheduler: IpvsService['scheduler'], protocol: IpvsService['protocol'] = 'tcp', persistentSeconds = 0): IpvsService =>
  ({ address, port, scheduler, protocol, persistentSeconds });

const encoders: Record<string, () => Buffer> = {
  '-A -t 10.96.0.10:80 -s rr': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.10', 80, 'rr'), H),
  '-A -u 10.96.0.10:53 -s wrr': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.10', 53, 'wrr', 'udp'), H),
  '-E -t 10.96.0.10:80 -s lc': () => encodeServiceMessage('SET_SERVICE', svc('10.96.0.10', 80, 'lc'), H),
  '-A -t 10.96.0.11:80 -s wlc': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.11', 80, 'wlc'), H),
  '-A -t 10.96.0.12:80 -s sh': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.12', 80, 'sh'), H),
  '-A -t 10.96.0.13:80 -s dh': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.13', 80, 'dh'), H),
  '-A -t 10.96.0.14:80 -s sed': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.14', 80, 'sed'), H),
  '-A -t 10.96.0.15:80 -s nq': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.15', 80, 'nq'), H),
  '-A -t 10.96.0.16:80 -s rr -p 10800': () => encodeServiceMessage('NEW_SERVICE', svc('10.96.0.16', 80, 'rr', 'tcp', 10800), H),
  '-D -t 10.96.0.10:80': () => encodeServiceMessage('DEL_SERVICE', svc('10.96.0.10', 80, 'rr'), H),
  '-a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 1': () => encodeDestMessage('NEW_DEST', svc('10.96.0.10', 80, 'rr'), { address: '10.244.1.5', port: 8080, weight: 1 }, H),
  '-a -u 10.96.0.10:53 -r 10.244.2.7:5353 -m -w 3': () => encodeDestMessage('NEW_DEST', svc('10.96.0.10', 53, 'rr', 'udp'), { address: '10.244.2.7', port: 5353, weight: 3 }, H),
  '-e -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 0': () => encodeDestMessage('SET_DEST', svc('10.96.0.10', 80, 'rr'), { address: '10.244.1.5', port: 8080, weight: 0 }, H),
  // Without -m/-w ipvsadm fills in its defaults (direct routing, weight 1); the kernel ignores them on delete.
  '-d -t 10.96.0.10:80 -r 10.244.1.5:8080': () => encodeDestMessage('DEL_DEST', svc('10.96.0.10', 80, 'rr'), { address: '10.244.1.5', port: 8080, weight: 1, forward: FWD_DROUTE }, H),
  '-A -t [fd00::10]:80 -s rr': () => encodeServiceMessage('NEW_SERVICE', svc('fd00::10', 80, 'rr'), H),
  '-a -t [fd00::10]:80 -r [fd00:244::5]:8080 -m -w 1': () => encodeDestMessage('NEW_DEST', svc('fd00::10', 80, 'rr'), { address: 'fd00:244::5', port: 8080, weight: 1 }, H),
};

test('every capture has an encoder (the fixture and the table agree)', (t) => {
  t.deepEqual(captures.map((c) => c.ipvsadm).sort(), Object.keys(encoders).sort());
});

for (const c of captures) {
  test(`ipvsadm ${c.ipvsadm}: identical bytes`, (t) => {
    const msg = encoders[c.ipvsadm]!();
    t.is(msg.readUInt32LE(0), msg.length, 'nlmsg_len');
    t.is(msg.readUInt16LE(4), 0x30, 'family id in nlmsg_type');
    t.is(msg.readUInt16LE(6), c.nlmsgFlags === 'NLM_F_REQUEST|NLM_F_ACK' ? 5 : -1);
    t.is(msg.subarray(16).toString('hex'), c.genl);
  });
}

test('schedulers outside the supported set are refused with a clear message', (t) => {
  t.is(checkScheduler('sed'), 'sed');
  const err = t.throws(() => checkScheduler('mh'));
  t.regex(err!.message, /"mh" is not supported \(one of rr, wrr, lc, wlc, sh, dh, sed, nq\)/);
});
