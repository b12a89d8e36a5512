import { isSemrouteError } from '../errors.js';

/** A progress bar on stderr when it is a terminal; silent otherwise (stdout stays machine-readable). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let last = -1;
  return (done: number, total: number) => {
    if (!stream.isTTY || total <= 0) return;
    const pct = Math.floor((done / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${done}/${total}`);
    if (done >= total) stream.write('\n');
  };
}

export class UsageError extends Error {}

/** Prints an error the same way for every command; returns the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`usage error: ${error.message}\n`);
    return 2;
  }
  if (isSemrouteError(error)) {
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
