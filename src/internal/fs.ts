import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that readers see either the old content or the new, never half of it:
 * write to a sibling temp file, then rename over the target.
 */
export async function writeFileAtomic(
  file: string,
  /** The content, or its parts in order (written as they come, never joined in memory). */
  data: string | Uint8Array | Iterable<Uint8Array>,
  /** Permission bits the file gets (chmod, so the umask does not widen or narrow them). */
  mode?: number,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, mode === undefined ? undefined : { mode });
    if (mode !== undefined) await chmod(temp, mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
