/** The few flags the CLI takes; anything unknown is an error rather than silently ignored. */
export interface ParsedArgs {
  command: string | undefined;
  flags: Set<string>;
}

export function parseArgs(argv: string[], allowed: Record<string, readonly string[]>): ParsedArgs {
  const [command, ...rest] = argv;
  const flags = new Set<string>();
  for (const arg of rest) {
    if (!command || !allowed[command]?.includes(arg)) {
      throw new Error(`unknown argument '${arg}' for 'nimbus ${command ?? ''}'. Try: nimbus help`);
    }
    flags.add(arg);
  }
  return { command, flags };
}
