/**
 * @module common/agentPart — the contract between `podnetd agent` and the parts it runs. A part lives with its
 * subsystem (src/node, src/controller, src/routing, src/services, src/dns, src/lb, src/cni) and implements this;
 * the agent (src/daemon) imports parts, never the reverse, so a part can run alone, in a child process of the
 * agent (src/daemon/README.md) or in a test without pulling in the agent that composes it.
 */
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import type { Store } from '../store/store.ts';
import type { AgentConfig } from '../node/agentConfig.ts';

export interface AgentContext {
  store: Store;
  /** The spec `store` was opened from (`file:DIR`, `etcd:URLS`, `kube`), for a part that opens its own connection on another thread. */
  storeSpec?: string;
  nodeName: string;
  config: AgentConfig;
  /** The config file, for errors that name file and field. */
  configFile?: string;
  logger: Logger;
  /** The /metrics registry of the process running the part; parts register what they export. */
  registry?: Registry;
}

/**
 * One part of the agent. `check` validates its config section (throws ConfigError); `enabled` says whether the
 * config turns it on at all (default: on), so the agent runs no process for a part that would idle; `healthy`
 * feeds /healthz.
 */
export interface AgentPart {
  name: string;
  check?(config: AgentConfig, configFile?: string): void;
  enabled?(config: AgentConfig, store: string): boolean;
  start(ctx: AgentContext): Promise<void>;
  stop(): Promise<void>;
  healthy?(): boolean;
}
