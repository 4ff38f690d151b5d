/**
 * @module daemon/agentSettings — where `podnetd agent` and each of its part processes take the store and the node
 * name from: a flag given on the command line wins over the config file, which wins over the flag defaults
 * (PODNET_STORE / PODNET_NODE, then file:/etc/podnet/state and the host name).
 */
import type { AgentConfig } from '../node/agentConfig.ts';
import type { CommonFlags } from './commonFlags.ts';

export interface AgentSettings {
  store: string;
  nodeName: string;
}

export function agentSettings(argv: readonly string[], common: CommonFlags, config: AgentConfig, host: string): AgentSettings {
  const given = (flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));
  return {
    store: given('--store') ? common.store : config.store ?? common.store,
    nodeName: given('--node') ? common.node : config.nodeName ?? common.node ?? host,
  };
}
