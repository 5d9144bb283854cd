// A one-line spinner on stderr while waiting for a browser login — only on a terminal.

export interface Spinner {
  /** Shows `message` (on a terminal, animated; otherwise printed once). */
  set(message: string): void;
  /** Clears the line so other output can be printed; `set` resumes. */
  pause(): void;
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A spinner writing to `stream`; without a TTY (`tty` false) each new message is printed once as a line. */
export function startSpinner(stream: { write(s: string): unknown }, tty: boolean): Spinner {
  let message = "";
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  const clear = () => tty && stream.write("\r\u001b[2K");
  const draw = () => {
    clear();
    stream.write(`${FRAMES[frame++ % FRAMES.length]} ${message}`);
  };
  const halt = () => {
    if (timer) clearInterval(timer);
    timer = null;
    clear();
  };
  return {
    set(m) {
      if (m === message && timer) return;
      message = m;
      if (!tty) {
        stream.write(`${m}\n`);
        return;
      }
      if (!timer) {
        timer = setInterval(draw, 100);
        timer.unref();
      }
      draw();
    },
    pause: halt,
    stop: halt,
  };
}
