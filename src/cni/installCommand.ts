/**
 * @module cni/installCommand — `podnetctl install-cni`: install podnet and podnet-ipam into the CNI bin dir (with a
 * V8 start-up snapshot each, see install/cniInstaller.ts) and write the conflist.
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../common/cli.ts';
import { CNI_EXECUTABLES, installCni } from './install/cniInstaller.ts';
import { renderConflist } from './install/conflistTemplate.ts';
import { bundleCniExecutables } from './install/cniBundler.ts';
import { DEFAULT_HANDOFF_SOCKET } from './handoff/cniHandoffServer.ts';

const USAGE = `usage: podnetctl install-cni [--bin-dir /opt/cni/bin] [--conf-dir /etc/cni/net.d] [--conf-file 10-podnet.conflist]
    [--network podnet] [--mode routed|bridge] [--no-ip-masq] [--ipv6] [--portmap] [--mtu N] [--data-dir DIR]
    [--node-state /run/podnet/node.json] [--cluster-cidr CIDR]... [--bundle-dir DIR] [--no-snapshot] [--no-conflist]
    [--handoff [--handoff-socket /run/podnet/cni.sock]]   podnet as a native shim handing pods to podnetd`;

/** Where `<name>.cjs` bundles are: --bundle-dir, else beside the running podnetctl (bin/), else built now. */
function bundleDirFor(given: string | undefined): { dir: string; cleanup?: () => void } {
  if (given) return { dir: given };
  const beside = dirname(process.argv[1] ?? '.');
  if (CNI_EXECUTABLES.every((n) => existsSync(join(beside, `${n}.cjs`)))) return { dir: beside };
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (!existsSync(join(root, 'cmd', 'cni', 'main.ts'))) {
    throw new UsageError(`no podnet.cjs/podnet-ipam.cjs beside ${process.argv[1]}: pass --bundle-dir`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'podnet-install-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The shim's C source: beside the bundles (a release), else in the source tree. */
function shimSourceIn(bundleDir: string): string {
  const beside = join(bundleDir, 'podnet-shim.c');
  return existsSync(beside) ? beside : join(dirname(fileURLToPath(import.meta.url)), 'handoff', 'podnet-shim.c');
}

export async function installCniCommand(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: argv, strict: true, options: {
      'bin-dir': { type: 'string', default: '/opt/cni/bin' }, 'conf-dir': { type: 'string', default: '/etc/cni/net.d' },
      'conf-file': { type: 'string', default: '10-podnet.conflist' }, network: { type: 'string', default: 'podnet' },
      mode: { type: 'string', default: 'routed' }, 'no-ip-masq': { type: 'boolean' }, ipv6: { type: 'boolean' },
      portmap: { type: 'boolean' }, mtu: { type: 'string' }, 'data-dir': { type: 'string' }, 'node-state': { type: 'string' },
      'cluster-cidr': { type: 'string', multiple: true }, 'bundle-dir': { type: 'string' },
      'no-snapshot': { type: 'boolean' }, 'no-conflist': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      handoff: { type: 'boolean' }, 'handoff-socket': { type: 'string', default: DEFAULT_HANDOFF_SOCKET },
    } }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (v.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (v.mode !== 'routed' && v.mode !== 'bridge') throw new UsageError(`--mode must be routed or bridge, got "${v.mode}"`);
  const mtu = v.mtu === undefined ? undefined : Number(v.mtu);
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 576)) throw new UsageError(`--mtu must be an integer ≥ 576, got "${v.mtu}"`);
  const bundles = bundleDirFor(v['bundle-dir']);
  try {
    if (bundles.cleanup) await bundleCniExecutables(bundles.dir);
    const installed = installCni({
      binDir: v['bin-dir']!, confDir: v['conf-dir']!, bundleDir: bundles.dir, snapshot: !v['no-snapshot'],
      ...(v.handoff ? { handoff: { socketPath: v['handoff-socket']!, shimSource: shimSourceIn(bundles.dir) } } : {}),
      ...(v['no-conflist'] ? {} : { conflist: { file: v['conf-file']!, content: renderConflist({
        name: v.network!, mode: v.mode, ipMasq: !v['no-ip-masq'], ipv6: Boolean(v.ipv6), portmap: Boolean(v.portmap),
        ...(mtu ? { mtu } : {}), ...(v['data-dir'] ? { dataDir: v['data-dir'] } : {}),
        ...(v['node-state'] ? { nodeStateFile: v['node-state'] } : {}), clusterCIDRs: v['cluster-cidr'] ?? [],
      }) } }),
    });
    for (const e of installed) {
      process.stdout.write(`installed ${e.path} (${[e.snapshot ? 'V8 start-up snapshot' : 'no snapshot', e.note].filter(Boolean).join('; ')})\n`);
    }
    if (!v['no-conflist']) process.stdout.write(`wrote ${join(v['conf-dir']!, v['conf-file']!)}\n`);
    return 0;
  } finally {
    bundles.cleanup?.();
  }
}
