/**
 * @module lab/kubeletSandbox — what the lab kubelet does to the machine for one pod: the pod's namespace, its
 * resolv.conf, the CNI attachment, the pod's processes; and the reverse. Every step's outcome is recorded in a
 * per-pod file (`<node>/kubelet/<ns>_<name>.json`) *before* the next step, so a kubelet killed half-way leaves a
 * record that the next kubelet (or `lab down`) tears down completely.
 *
 * Teardown is idempotent and ordered like a runtime's: processes, then CNI DEL (the spec makes it succeed on
 * missing pieces), then the namespace, then /etc/netns/<ns>.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { runTool } from '../common/systemTools.ts';
import type { Pod } from '../store/types.ts';
import { CniRunner, loadConflist, podAddresses, type CniResult } from './kubeletCni.ts';
import { podContainerId, podFileKey, podKey, podNetnsOf, podResolvConf, POD_IFNAME } from './kubeletPodNames.ts';
import { guardNamespace } from './labNames.ts';
import { isRunning, startInNamespace, stopProcesses } from './labProcesses.ts';
import type { LabProcessRecord } from './labState.ts';

/** Where /etc/netns lives (`ip netns exec` bind-mounts `<dir>/<ns>/resolv.conf` over /etc/resolv.conf). */
export const ETC_NETNS = '/etc/netns';

export interface PodRecord {
  key: string;
  uid: string;
  netns: string;
  containerId: string;
  ifname: string;
  /** Set once CNI ADD succeeded (DEL gets it as prevResult). */
  cniResult?: CniResult;
  /** Set when every step of create succeeded; a record without it is a create that failed or was cut short. */
  complete?: boolean;
  /** `spec.hostNetwork`: the pod runs in the node's namespace (`netns`), with the node's address; no CNI. */
  hostNetwork?: boolean;
  podIPs: string[];
  processes: LabProcessRecord[];
}

export interface SandboxOptions {
  lab: string;
  /** The node's namespace: CNI plugins run there (`ip netns exec`), as a runtime runs them on its node. */
  nodeNs: string;
  /** The node's address: hostNetwork pods' podIP. */
  nodeIP: string;
  recordDir: string;
  conflist: string;
  cniPath: string;
  logDir: string;
  dnsIp: string;
  clusterDomain: string;
  /** What a container with no command runs (`podnetctl lab serve`). */
  defaultCommand: { argv: string[]; cwd: string };
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The pod records in a kubelet's record directory (none when it does not exist). */
export function readPodRecords(dir: string): PodRecord[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: PodRecord[] = [];
  for (const f of files) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as PodRecord);
    } catch { /* being replaced (tmp + rename) or removed right now */ }
  }
  return out;
}

/** The test server's port (`lab serve --http`, default) probed for readiness. */
export const TEST_SERVER_HTTP_PORT = 8080;

function healthz(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * The readiness probe a pod of the test server gets implicitly: Ready only once `/healthz` answers from the
 * node (the kubelet runs in the node's namespace), so nothing — tests, the endpoints controller — sends traffic
 * to a pod whose server is still starting. Bounded: a server that never answers fails the pod.
 */
async function waitForTestServer(r: PodRecord, ip: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthz(ip, TEST_SERVER_HTTP_PORT))) {
    if (!r.processes.every(isRunning)) throw new Error(`the test server of ${r.key} exited before answering on :${TEST_SERVER_HTTP_PORT}`);
    if (Date.now() > deadline) throw new Error(`the test server of ${r.key} did not answer http://${ip}:${TEST_SERVER_HTTP_PORT}/healthz within ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export class PodSandboxes {
  readonly #o: SandboxOptions;
  readonly #cni: CniRunner;

  constructor(o: SandboxOptions) {
    this.#o = o;
    // The plugins run inside the node's namespace (`ip netns exec`), as a runtime runs them on its node.
    this.#cni = new CniRunner({ cniPath: o.cniPath, wrap: ['ip', 'netns', 'exec', o.nodeNs] });
    mkdirSync(o.recordDir, { recursive: true });
  }

  #recordFile(fileKey: string): string {
    return join(this.#o.recordDir, `${fileKey}.json`);
  }

  records(): PodRecord[] {
    return readPodRecords(this.#o.recordDir);
  }

  record(key: string): PodRecord | undefined {
    return this.records().find((r) => r.key === key);
  }

  #save(r: PodRecord): void {
    writeJson(this.#recordFile(r.key.replace('/', '_')), r);
  }

  /** Create the pod's sandbox and start its containers; on failure undo everything and rethrow. */
  async create(pod: Pod, owner: (netns: string) => boolean): Promise<PodRecord> {
    const hostNetwork = pod.spec.hostNetwork === true;
    const netns = guardNamespace(this.#o.lab, hostNetwork ? this.#o.nodeNs : podNetnsOf(this.#o.lab, pod));
    if (!hostNetwork && existsSync(join('/run/netns', netns)) && !owner(netns)) {
      throw new Error(`namespace ${netns} already exists and belongs to no pod of this kubelet ` +
        '(another pod whose namespace and name join to the same string?)');
    }
    const r: PodRecord = { key: podKey(pod), uid: pod.metadata.uid ?? '', netns, containerId: podContainerId(pod),
      ifname: POD_IFNAME, podIPs: hostNetwork ? [this.#o.nodeIP] : [], processes: [], ...(hostNetwork ? { hostNetwork } : {}) };
    this.#save(r);
    try {
      if (!hostNetwork) await this.#wireNetwork(pod, r);
      let serves = false;
      for (const [i, c] of pod.spec.containers.entries()) {
        const command = [...(c.command ?? []), ...(c.args ?? [])];
        serves ||= command.length === 0;
        r.processes.push(await this.#startContainer(pod, r, c.name || `c${i}`, command));
        this.#save(r);
      }
      if (serves && r.podIPs[0]) await waitForTestServer(r, r.podIPs[0]);
      r.complete = true;
      this.#save(r);
      return r;
    } catch (err) {
      // If this fails too (DEL after a successful ADD), the incomplete record makes the kubelet retry it.
      await this.destroy(r).catch(() => undefined);
      throw err;
    }
  }

  /** The pod's own namespace, its resolv.conf, and the CNI attachment (the result goes into the record). */
  async #wireNetwork(pod: Pod, r: PodRecord): Promise<void> {
    mkdirSync(join(ETC_NETNS, r.netns), { recursive: true });
    writeFileSync(join(ETC_NETNS, r.netns, 'resolv.conf'),
      podResolvConf(pod.metadata.namespace ?? 'default', this.#o.dnsIp, this.#o.clusterDomain));
    if (!existsSync(join('/run/netns', r.netns))) await runTool('ip', ['netns', 'add', r.netns]);
    await runTool('ip', ['-n', r.netns, 'link', 'set', 'lo', 'up']);
    r.cniResult = await this.#cni.add(loadConflist(this.#o.conflist), this.#attachment(pod, r));
    r.podIPs = podAddresses(r.cniResult);
    this.#save(r);
  }

  #attachment(pod: Pod, r: PodRecord) {
    return {
      containerId: r.containerId, netns: join('/run/netns', r.netns), ifname: r.ifname,
      args: { K8S_POD_NAMESPACE: pod.metadata.namespace ?? 'default', K8S_POD_NAME: pod.metadata.name,
        K8S_POD_INFRA_CONTAINER_ID: r.containerId, K8S_POD_UID: r.uid },
    };
  }

  async #startContainer(pod: Pod, r: PodRecord, container: string, command: string[]): Promise<LabProcessRecord> {
    const argv = command.length > 0 ? command : [...this.#o.defaultCommand.argv, 'lab', 'serve'];
    const env: NodeJS.ProcessEnv = {
      ...process.env, POD_NAME: pod.metadata.name, POD_NAMESPACE: pod.metadata.namespace ?? 'default',
      POD_IP: r.podIPs[0] ?? '', HOSTNAME: pod.metadata.name,
    };
    return startInNamespace({ name: `${podFileKey(pod)}/${container}`, ns: r.netns, argv, env,
      cwd: this.#o.defaultCommand.cwd, log: join(this.#o.logDir, `pod-${podFileKey(pod)}-${container}.log`) });
  }

  /**
   * Stop the processes, CNI DEL, delete the namespace and /etc/netns/<ns>, forget the record. Idempotent.
   * When ADD had succeeded, a failed DEL stops here (namespace and record kept, so a retry can DEL again and the
   * lease is not leaked); when it had not, DEL is best effort — the spec makes a failed ADD clean up after itself,
   * and a runtime tears the sandbox down anyway.
   */
  async destroy(r: PodRecord): Promise<void> {
    await stopProcesses(r.processes);
    if (r.hostNetwork) {
      // The node's own namespace: its processes (podnetd, this kubelet) are not the pod's. Only the pod's go.
      rmSync(this.#recordFile(r.key.replace('/', '_')), { force: true });
      return;
    }
    const [ns, name] = r.key.split('/') as [string, string];
    try {
      await this.#cni.del(loadConflist(this.#o.conflist), {
        containerId: r.containerId, netns: join('/run/netns', r.netns), ifname: r.ifname,
        args: { K8S_POD_NAMESPACE: ns, K8S_POD_NAME: name, K8S_POD_INFRA_CONTAINER_ID: r.containerId, K8S_POD_UID: r.uid },
      }, r.cniResult);
    } catch (err) {
      if (r.cniResult) throw err;
    }
    const netns = guardNamespace(this.#o.lab, r.netns);
    // Anything else still living in the pod's namespace (a child the container forked) goes with it.
    const pids = await runTool('ip', ['netns', 'pids', netns], { allowFailure: true });
    for (const pid of pids.stdout.split('\n').map(Number).filter((p) => p > 0)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (existsSync(join('/run/netns', netns))) await runTool('ip', ['netns', 'del', netns]);
    rmSync(join(ETC_NETNS, netns), { recursive: true, force: true });
    rmSync(this.#recordFile(r.key.replace('/', '_')), { force: true });
  }
}
