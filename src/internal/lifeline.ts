/**
 * A child that ends with the process that started it. Harnesses (the bench, the tests) set
 * `SEMROUTE_PARENT_PID` in the environment of every server they start; the server then checks
 * every 250 ms that the process is still there and, once it is gone (ended, failed, timed out
 * or killed with SIGKILL, when no exit handler runs), stops itself: SIGTERM first, so `serve`
 * drains as it does for an operator, then a hard exit if that takes more than 5 s. A pid, not
 * the parent pid: between a harness and a server there may be a launcher (tsx, npx) that does
 * not pass a parent's death on.
 */
const CHECK_MS = 250;
const GRACE_MS = 5_000;

/** True while `pid` names a live process (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Watches `pid` (default: `SEMROUTE_PARENT_PID`); a no-op when there is none. */
export function exitWithParent(pid = Number(process.env.SEMROUTE_PARENT_PID)): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
  const timer = setInterval(() => {
    if (alive(pid)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), GRACE_MS).unref();
  }, CHECK_MS);
  // Never the reason a finished process stays up.
  timer.unref();
}
