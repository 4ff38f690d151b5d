/**
 * @module cni/handoff/cniAgentPart — the CNI hand-off server as a part of `podnetd agent`
 * (composed by src/daemon/agentParts.ts): with a `cni` section in the agent config (`enabled: false` turns it off) podnetd
 * serves CNI invocations on `handoffSocket` (default /run/podnet/cni.sock), so the native shim installed by
 * `podnetctl install-cni --handoff` pays a ~1 ms exec instead of a Node start. Without the daemon the shim falls
 * back to the Node plugin, so this part is an accelerator, never a dependency.
 *
 *   cni: { handoffSocket: /run/podnet/cni.sock }
 */
import type { AgentContext, AgentPart } from '../../common/agentPart.ts';
import { FieldReader } from '../../common/config.ts';
import type { AgentConfig } from '../../node/agentConfig.ts';
import { DEFAULT_HANDOFF_SOCKET, startCniHandoffServer } from './cniHandoffServer.ts';

export function cniAgentPart(): AgentPart {
  let server: { close(): Promise<void> } | undefined;
  const read = (config: AgentConfig, configFile?: string) => {
    const r = new FieldReader(config.sections.cni ?? {}, 'cni');
    const enabled = config.sections.cni !== undefined && r.bool('enabled', true);
    const socketPath = r.string('handoffSocket', DEFAULT_HANDOFF_SOCKET) ?? DEFAULT_HANDOFF_SOCKET;
    if (!socketPath.startsWith('/')) r.problem('handoffSocket', `must be an absolute path, got "${socketPath}"`);
    r.rejectUnknown();
    r.throwIfProblems(configFile);
    return { enabled, socketPath };
  };
  return {
    name: 'cni',
    check: (config, configFile) => { read(config, configFile); },
    enabled: (config) => read(config).enabled,
    async start({ config, configFile, logger }: AgentContext) {
      const { enabled, socketPath } = read(config, configFile);
      if (!enabled) return;
      const s = await startCniHandoffServer({ socketPath });
      server = s;
      logger.info({ event: 'cniHandoffStarted', socket: s.path }, `cni: serving CNI hand-offs on ${s.path}`);
    },
    async stop() { await server?.close(); },
  };
}
