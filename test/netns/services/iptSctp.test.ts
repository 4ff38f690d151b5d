/**
 * SCTP Service ports in both modes, at the packet level: this kernel has no SCTP sockets (CONFIG_IP_SCTP is not
 * set) but does have SCTP conntrack and NAT, so a client sends a hand-made SCTP INIT (raw socket, CRC32c filled
 * in so conntrack accepts it) to a ClusterIP's SCTP port and a raw socket on the endpoint shows what arrives:
 * the INIT, DNATed to the endpoint's address and targetPort. kubernetes test/e2e/network/service.go "should allow
 * creating a basic SCTP service with pod and endpoints", reduced to what this kernel can carry.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { createBackend, cleanupOtherModes } from '../../../src/services/backendTable.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, NODE_IP } from './_proxyTopology.ts';
import { findTool, runTool } from '../../../src/common/systemTools.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const PREFIX = uniquePrefix('pxc');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const SERVICE_PORT = 7777;
const TARGET_PORT = 9999;

/** Prints "SRC DSTPORT" for each SCTP packet that arrives (at most `n`, for at most 8 s). */
const RECEIVER = `
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
s.settimeout(8)
print('ready', flush=True)
for _ in range(int(sys.argv[1])):
    d, a = s.recvfrom(65535)
    ihl = (d[0] & 15) * 4
    print(a[0], struct.unpack('!HH', d[ihl:ihl + 4])[1], flush=True)
`;

/** Sends one SCTP INIT to argv[1]:argv[2] (RFC 9260 §3.3.2) with a valid CRC32c (RFC 9260 appendix A). */
const SENDER = `
import socket, struct, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff
pkt = struct.pack('!HHII', 40000, int(sys.argv[2]), 0, 0) + struct.pack('!BBHIIHHI', 1, 0, 20, 0x1234abcd, 65535, 1, 1, 1)
pkt = pkt[:8] + struct.pack('<I', crc32c(pkt)) + pkt[12:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, 132).sendto(pkt, (sys.argv[1], 0))
`;

for (const mode of ['nftables', 'iptables'] as const) {
  test.serial(`${mode}: an SCTP INIT to a ClusterIP's SCTP port arrives at the endpoint's targetPort`, async (t) => {
    const topo = await buildTopology(t, `${PREFIX}${mode[0]}`);
    const opts = { netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };
    const s = svc('sctp', { clusterIP: '10.96.3.1', ports: [{ name: 'sctp', protocol: 'SCTP', port: SERVICE_PORT, targetPort: TARGET_PORT }] });
    const sl = slice('sctp', [ep(topo.backends[0]!.ip)], { ports: [{ name: 'sctp', protocol: 'SCTP', port: TARGET_PORT }] });
    await cleanupOtherModes(mode, opts);
    await createBackend(mode, opts).sync(compileServiceModel({ services: [s], slices: [sl], node: { name: 'node', nodePortIPs: [NODE_IP] } }));

    const python = findTool('python3');
    if (!python) return t.fail('python3 is needed to craft SCTP packets');
    const rx = spawn('ip', ['netns', 'exec', topo.backends[0]!.ns, python, '-c', RECEIVER, '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => { rx.kill('SIGKILL'); });
    let out = '';
    rx.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    await waitFor('the raw receiver', () => out.includes('ready'), 5_000);
    await runTool('ip', ['netns', 'exec', topo.client, python, '-c', SENDER, '10.96.3.1', String(SERVICE_PORT)]);
    const line = await waitFor('an SCTP packet at the endpoint', () => out.split('\n').find((l) => /^\d+\.\d+\.\d+\.\d+ \d+$/.test(l)), 8_000);
    const [, dport] = line.split(' ');
    t.is(Number(dport), TARGET_PORT, `DNATed to the targetPort (${line})`);
  });
}
