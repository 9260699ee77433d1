// Reads a secret from an interactive prompt (not echoed) or, when stdin is not a TTY, from
// the first line of stdin, so automated installs can pipe it in.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

async function readFirstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    // The first line is all that is wanted: a pipe the caller keeps open must not hang us.
    if ((chunk as Buffer).includes(0x0a)) break;
  }
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trimEnd();
}

function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

export async function readSecret(question: string): Promise<string> {
  return process.stdin.isTTY ? promptHidden(question) : readFirstLineOfStdin();
}
