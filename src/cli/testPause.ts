// A test hook: CILIUM_CUSTOM_TEST_PAUSE="step=ms,..." makes attach and detach stop at a named step for that long,
// saying so on stderr first, so that the interruption tests can send SIGINT or SIGKILL at an exact point. A pause
// ends early when the run is cancelled during it (not when it was cancelled already, as in a rollback).
export function pauseAt(step: string, signal: AbortSignal): Promise<void> {
  const spec = process.env.CILIUM_CUSTOM_TEST_PAUSE;
  if (!spec) return Promise.resolve();
  const entry = spec.split(',').find((e) => e.slice(0, e.lastIndexOf('=')) === step);
  const ms = entry ? Number(entry.slice(entry.lastIndexOf('=') + 1)) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) return Promise.resolve();
  process.stderr.write(`paused at ${step}\n`);
  const wasAborted = signal.aborted;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (!wasAborted) {
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    }
  });
}
