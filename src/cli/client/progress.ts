// A spinner while the CLI waits on a person (browser or device sign-in): only when stderr is
// a terminal, so logs and pipes get the plain lines and nothing else (SPEC §9).
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;

export interface Spinner {
  stop(): void;
}

export function startSpinner(text: string): Spinner {
  if (!process.stderr.isTTY) return { stop: () => {} };
  let frame = 0;
  const draw = () => {
    process.stderr.write(`\r${FRAMES[frame % FRAMES.length]} ${text}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\r\u001b[2K');
    },
  };
}
