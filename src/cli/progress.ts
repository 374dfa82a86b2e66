import { SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for long commands (stdout stays clean for --json); silent when
 * stderr is not a terminal, except for a final line.
 */
export function progressBar(
  label: string,
  unit = 'events',
): { update(done: number, total: number): void; stop(): void } {
  const tty = process.stderr.isTTY;
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta}s left`,
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: false,
  });
  let started = false;
  let last = { done: 0, total: 0 };
  return {
    update(done, total) {
      last = { done, total };
      if (!tty) return;
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done, { total });
      bar.setTotal(total);
    },
    stop() {
      if (started) bar.stop();
      else if (!tty) process.stderr.write(`${label}: ${last.done}/${last.total} ${unit}\n`);
    },
  };
}
