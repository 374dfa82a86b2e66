/**
 * Reading a password for the command line: never from argv (it would show in `ps` and in shell
 * history). Either piped on stdin (`--password-stdin`), or typed at a terminal prompt with the
 * echo off.
 */

/** All of stdin, without the one line break that `echo` or a file adds at the end. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing; undefined when stdin is not a terminal. */
export async function promptHidden(question: string): Promise<string | undefined> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY) return undefined;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? [...value].slice(0, -1).join('') : value + ch;
      }
    };
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    stdin.on('data', onData);
  });
}
