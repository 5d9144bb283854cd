// Diagnostics to stderr only (stdout is JSON-RPC in serve). Never pass a secret value here.

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  /** Logs an unexpected error by its kind and code only: messages of foreign errors may embed inputs. */
  error(msg: string, e?: unknown): void;
}

/** A stderr logger; debug lines only when MCB_DEBUG is set. */
export function createLogger(opts: { debug: boolean; write?: (line: string) => void }): Logger {
  const write = opts.write ?? ((l: string) => process.stderr.write(`${l}\n`));
  const p = "mcp-credentials-broker:";
  return {
    debug: (m) => opts.debug && write(`${p} debug: ${m}`),
    info: (m) => write(`${p} ${m}`),
    warn: (m) => write(`${p} warning: ${m}`),
    error: (m, e) => {
      const kind = e instanceof Error ? `${e.name}${(e as NodeJS.ErrnoException).code ? ` ${(e as NodeJS.ErrnoException).code}` : ""}` : e === undefined ? "" : typeof e;
      write(`${p} error: ${m}${kind ? ` (${kind})` : ""}`);
    },
  };
}
