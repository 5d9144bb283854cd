// Pieces CLI commands share: the --store/--json flags, repeatable flags, times for people.
// (Output and the runtime come with the command's context: command.ts.)

export const storeArg = {
  store: { type: "string", description: "Backend: auto, keychain, file or memory (default: MCB_STORE, else auto)", valueHint: "auto|keychain|file|memory" },
} as const;
export const jsonArg = { json: { type: "boolean", description: "Print JSON for scripts" } } as const;

/**
 * Every value of a repeatable `--name value` / `--name=value` flag, in order, from the
 * command's raw arguments up to `--`. citty keeps only the last occurrence of a flag.
 */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
    else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
  }
  return values;
}

/** Local time for humans, or "-" when absent. */
export function when(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().replace(".000Z", "Z");
}
