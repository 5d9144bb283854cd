// Reading a child process's stdout line by line, as the fault tests' writers report each
// acknowledged write on a line of its own.

/** Collects the newline-terminated lines of `stream`, calling `onLine` for each as it arrives; resolves with all of them at EOF. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void = () => {}): Promise<string[]> {
  const lines: string[] = [];
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lines.push(line);
      onLine(line);
    }
  }
  return lines; // a trailing partial line was never acknowledged
}
