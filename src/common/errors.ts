/**
 * @module common/errors — one base class, one subclass per condition callers branch on, stable `code`s.
 *
 * Messages read as what / where / why. System errors keep their errno name, number and syscall so an operator
 * can search for them; context is added as a noun phrase ("creating veth pn1234 in node-1: EEXIST ...").
 */

export class PodnetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration or manifest problem: names the file, the field (a dotted path) and what is wrong. */
export class ConfigError extends PodnetError {
  readonly file: string | undefined;
  readonly field: string | undefined;
  constructor(problem: string, where: { file?: string; field?: string } = {}) {
    const loc = [where.file, where.field].filter(Boolean).join(': ');
    super('PODNET_CONFIG_INVALID', loc ? `${loc}: ${problem}` : problem);
    this.file = where.file;
    this.field = where.field;
  }
}

/** A failed system call or kernel request, with the errno name preserved. */
export class SystemError extends PodnetError {
  readonly errno: number;
  readonly syscall: string;
  constructor(what: string, errnoName: string, errno: number, syscall: string, detail?: string) {
    super(errnoName, `${what}: ${errnoName}${detail ? ` (${detail})` : ''}`);
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** The kernel lacks a feature a mode needs (ipip, ip_vs, ...): says which module and what to use instead. */
export class UnsupportedKernelError extends PodnetError {
  constructor(feature: string, module: string, instead: string) {
    super('PODNET_KERNEL_UNSUPPORTED', `${feature} is not available: this kernel has no ${module} module; ${instead}`);
  }
}

/** Turn anything thrown into a one-line description fit for a log or a CLI error, never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** errno name of a Node system error or a native error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/**
 * Text that is not a usable IP address or prefix, or address arithmetic that leaves the address space. `input` is
 * the text as given; `reason` says which rule it broke ("host bits are set (the network is 10.0.0.0/24)",
 * "prefix length 33 is out of range 0..32 for IPv4", ...), so a caller can wrap it with its own where.
 */
export class AddressError extends PodnetError {
  readonly input: string;
  readonly kind: 'address' | 'prefix' | 'range';
  readonly reason: string;
  constructor(input: string, kind: 'address' | 'prefix' | 'range', reason: string) {
    const what = kind === 'address' ? 'is not an IP address' : kind === 'prefix' ? 'is not an IP prefix' : 'is out of range';
    super('PODNET_ADDRESS_INVALID', `"${input}" ${what}: ${reason}`);
    this.input = input;
    this.kind = kind;
    this.reason = reason;
  }
}
