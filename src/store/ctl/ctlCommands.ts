export function commandFor(verb: string): (argv: string[]) => Promise<number> {
  return async () => {
    throw new Error(`"podnetctl ${verb}" is not available in this build yet`);
  };
}
