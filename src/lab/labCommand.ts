export async function labCommand(_argv: string[]): Promise<number> {
  throw new Error('"podnetctl lab" is not available in this build yet');
}
