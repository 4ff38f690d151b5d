/**
 * @module lb/labelSelector — Kubernetes label selector matching (matchLabels AND matchExpressions). An empty
 * selector matches everything; a list of selectors matches when any one does (MetalLB's nodeSelectors and
 * serviceSelectors semantics), and an empty list matches everything. Pure.
 */
import type { LabelSelector } from '../store/types.ts';

export function selectorMatches(sel: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(value!)) return false; break;
      case 'NotIn': if (has && values.includes(value!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Any of `selectors` matches; no selectors = everything. */
export function anySelectorMatches(selectors: readonly LabelSelector[] | undefined, labels: Record<string, string> = {}): boolean {
  if (!selectors || selectors.length === 0) return true;
  return selectors.some((s) => selectorMatches(s, labels));
}
