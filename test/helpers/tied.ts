/**
 * Children of a test that end with it. semroute's own processes watch `SEMROUTE_PARENT_PID`
 * (src/internal/lifeline.ts); anything else (redis-server) runs under a small shell that does the
 * same watching and takes its child down when this test process is gone, SIGKILL included.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/** The environment of a child that must not outlive this process. */
export function tiedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, SEMROUTE_PARENT_PID: String(process.pid) };
}

// "$@" runs the program; the loop ends when either it or the watched process is gone; a TERM
// to the shell (the helper's stop()) is passed on. `wait` gives the program's own exit code.
const WATCH = `"$@" & child=$!
trap 'kill $child 2>/dev/null' TERM INT
while kill -0 "$SEMROUTE_PARENT_PID" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.2; done
kill $child 2>/dev/null
wait $child`;

/** Spawns a program that knows nothing of lifelines, tied to this process. */
export function spawnTied(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('sh', ['-c', WATCH, 'tied', command, ...args], {
    ...options,
    env: tiedEnv(options.env ?? process.env),
  });
}
