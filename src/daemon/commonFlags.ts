/**
 * @module daemon/commonFlags — the flags every daemon part takes (design §2): `--store`, `--node`, `--log-level`,
 * `--metrics ADDR:PORT`, `--health ADDR:PORT`. Parts add their own options on top.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { hostname } from 'node:os';
import { UsageError } from '../common/cli.ts';
import { isLogLevel } from '../common/logger.ts';
import { parseListenAddress } from '../common/opsServer.ts';
import type { LevelWithSilent } from 'pino';

export interface CommonFlags {
  store: string;
  node: string;
  logLevel: LevelWithSilent;
  metrics: { host: string; port: number } | null;
  health: { host: string; port: number } | null;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS: Options = {
  store: { type: 'string' },
  node: { type: 'string' },
  'log-level': { type: 'string' },
  metrics: { type: 'string' },
  health: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * Parse argv with the common options plus `extra`; unknown flags are a UsageError naming the flag.
 * Returns the common flags and the raw values of the part's own options.
 */
export function parseDaemonFlags(argv: string[], extra: Options, defaults: { metricsPort?: number; healthPort?: number } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const level = (v['log-level'] as string | undefined) ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level: unknown level "${level}"`);
  const listen = (flag: string, def?: number) => {
    const raw = v[flag] as string | undefined;
    if (raw !== undefined) return parseListenAddress(raw, `--${flag}`);
    return def === undefined ? null : { host: '127.0.0.1', port: def };
  };
  const common: CommonFlags = {
    store: (v.store as string | undefined) ?? process.env.PODNET_STORE ?? 'file:/etc/podnet/state',
    node: (v.node as string | undefined) ?? process.env.PODNET_NODE ?? hostname(),
    logLevel: level,
    metrics: listen('metrics', defaults.metricsPort),
    health: listen('health', defaults.healthPort),
  };
  return { common, values: v, help: Boolean(v.help) };
}
