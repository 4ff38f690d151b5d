/** The shared behaviour suite against MemoryStore: the fake other engineers test with must behave like the backends. */
import { defineStoreSuite } from '../../integration/store/storeBehaviour.ts';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { formatProblem, parseManifests } from '../../../src/store/validate.ts';

defineStoreSuite('memory', async () => {
  const store = new MemoryStore();
  const problems: string[] = [];
  return {
    store, writer: store,
    forgetHistory: async () => store.compact(),
    // MemoryStore validates every write, so bad input reaches it only as a manifest being applied.
    injectBad: async (ns: string) => {
      const r = parseManifests([
        `apiVersion: v1\nkind: Service\nmetadata: {name: good, namespace: ${ns}}\nspec: {ports: [{port: 80}]}`,
        `apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: ${ns}}\nspec: {ports: [{port: http}]}`,
      ].join('\n---\n'), 'app.yaml');
      problems.push(...r.problems.map(formatProblem));
      for (const { object } of r.objects) await store.create(object);
    },
    problems: () => problems,
  };
});
