/**
 * @module lab/labNames — the lab's naming rules and the guard that keeps every kernel change inside the lab.
 *
 * A lab named `podnet` owns exactly the namespaces whose names start with `podnet-`. Lab names are lowercase
 * letters and digits only — no dash — so one lab's prefix can never be the start of another lab's prefix
 * (`podnet-` vs `podnet-x-` would make `lab down --name podnet` sweep the other lab).
 */
import { UsageError } from '../common/cli.ts';
import { PodnetError } from '../common/errors.ts';

export const DEFAULT_LAB_NAME = 'podnet';
const LAB_NAME = /^[a-z][a-z0-9]{0,15}$/;
// What may follow the prefix: the characters `ip netns` accepts in a file name, minus anything path-like.
const NS_SUFFIX = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Raised when a kernel-changing command would target a namespace that is not the lab's (or the root one). */
export class LabGuardError extends PodnetError {
  constructor(lab: string, ns: string, why: string) {
    super('PODNET_LAB_GUARD', `refusing to touch namespace "${ns}" from lab ${lab}: ${why}`);
  }
}

export function validateLabName(name: string): string {
  if (!LAB_NAME.test(name)) {
    throw new UsageError(`--name: a lab name is 1-16 lowercase letters and digits, starting with a letter ` +
      `(no dash: it separates the lab from its namespaces), got "${name}"`);
  }
  return name;
}

export function labPrefix(lab: string): string {
  return `${lab}-`;
}

/** True when `ns` is a namespace of lab `lab` by name. */
export function isLabNamespace(lab: string, ns: string): boolean {
  const prefix = labPrefix(lab);
  return LAB_NAME.test(lab) && ns.startsWith(prefix) && NS_SUFFIX.test(ns.slice(prefix.length));
}

/**
 * The guard every kernel-changing call goes through: returns `ns` when it is one of the lab's namespaces, throws
 * otherwise. An empty name is the classic way to end up in the root namespace (`ip -n "" ...` fails, but
 * `ip netns exec "$NS"` scripts do not), so it is refused explicitly.
 */
export function guardNamespace(lab: string, ns: string): string {
  if (!ns) throw new LabGuardError(lab, ns, 'empty namespace name (would mean the root namespace)');
  if (!LAB_NAME.test(lab)) throw new LabGuardError(lab, ns, `"${lab}" is not a valid lab name`);
  if (!ns.startsWith(labPrefix(lab))) throw new LabGuardError(lab, ns, `name does not start with "${labPrefix(lab)}"`);
  if (!NS_SUFFIX.test(ns.slice(labPrefix(lab).length))) {
    throw new LabGuardError(lab, ns, 'name has characters a namespace name may not have');
  }
  return ns;
}

/**
 * Candidate namespace names for what a user typed after `lab exec`: a full name (`podnet-n1`), a short one
 * (`n1`, `client`, `fabric`) or a pod (`web-1` → `podnet-pod-default-web-1`, `ns/web-1` → `podnet-pod-ns-web-1`,
 * the lab kubelet's names; `podnet-pod-web-1` is still tried). The caller picks the first that exists.
 */
export function namespaceCandidates(lab: string, target: string): string[] {
  const prefix = labPrefix(lab);
  if (target.startsWith(prefix)) return [target];
  const slash = target.indexOf('/');
  if (slash > 0) return [`${prefix}pod-${target.slice(0, slash)}-${target.slice(slash + 1)}`];
  return [`${prefix}${target}`, `${prefix}pod-default-${target}`, `${prefix}pod-${target}`];
}
