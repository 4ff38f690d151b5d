/**
 * The one seam between the nftables backend and the kernel: run `nft` (absolute path, never node_modules/.bin's
 * unrelated `nft`), optionally inside a named network namespace (tests, bench; the lab runs podnetd inside the
 * node's namespace already). A fake runner records transactions for unit tests.
 */
import { runTool, findTool } from '../../common/systemTools.ts';
import { PodnetError } from '../../common/errors.ts';

export interface NftRunner {
  /** Apply one atomic transaction (`nft -f -`). */
  apply(script: string): Promise<void>;
  /** Run a read-only nft command; resolves stdout, or null when nft says the object does not exist. */
  query(args: readonly string[]): Promise<string | null>;
}

export class NftTransactionError extends PodnetError {
  constructor(detail: string) {
    super('PODNET_NFT_TRANSACTION_FAILED', `applying nftables transaction: ${detail}`);
  }
}

export class NftCli implements NftRunner {
  readonly #nft: string;
  readonly #netns: string | undefined;
  constructor(opts: { netns?: string } = {}) {
    const nft = findTool('nft');
    if (!nft) throw new PodnetError('PODNET_TOOL_MISSING', 'nft is not installed (Debian package nftables): the nftables proxy mode needs it');
    this.#nft = nft;
    this.#netns = opts.netns;
  }

  #cmd(args: readonly string[]): [string, string[]] {
    return this.#netns ? ['ip', ['netns', 'exec', this.#netns, this.#nft, ...args]] : [this.#nft, [...args]];
  }

  async apply(script: string): Promise<void> {
    const [tool, args] = this.#cmd(['-f', '-']);
    const r = await runTool(tool, args, { input: script, allowFailure: true, timeoutMs: 600_000 });
    if (r.code !== 0) throw new NftTransactionError(r.stderr.trim().split('\n').slice(0, 6).join('; ') || `nft exited with ${r.code}`);
  }

  async query(args: readonly string[]): Promise<string | null> {
    const [tool, full] = this.#cmd(args);
    const r = await runTool(tool, full, { allowFailure: true, timeoutMs: 120_000 });
    if (r.code === 0) return r.stdout;
    if (/No such file or directory|does not exist/.test(r.stderr)) return null;
    throw new NftTransactionError(`nft ${args.join(' ')}: ${r.stderr.trim().split('\n')[0]}`);
  }
}

/** Records transactions; answers queries from a callback. For unit tests of the applier. */
export class FakeNftRunner implements NftRunner {
  readonly applied: string[] = [];
  failNext = false;
  constructor(readonly answer: (args: readonly string[]) => string | null = () => null) {}
  async apply(script: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new NftTransactionError('injected failure');
    }
    this.applied.push(script);
  }
  async query(args: readonly string[]): Promise<string | null> {
    return this.answer(args);
  }
}
