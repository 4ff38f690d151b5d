/**
 * podnetd agent: not built yet (see the issue that builds it).
 */
export async function run(_argv: string[]): Promise<number> {
  throw new Error('"podnetd agent" is not available in this build yet');
}
