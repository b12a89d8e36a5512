/**
 * `semroute models pull <hf-model-id>`: downloads a sentence-transformers ONNX export and its
 * tokenizer into `models/<id>/`, resumably (HTTP Range on a `.part` file), with a sha256
 * manifest. Only ever called explicitly: no encoder downloads anything by itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../errors.js';
import { writeFileAtomic } from '../internal/fs.js';
import { modelsDir } from '../internal/paths.js';

export interface PullOptions {
  /** Hub base URL. Default env `SEMROUTE_HF_BASE_URL`, else https://huggingface.co. */
  baseUrl?: string | undefined;
  revision?: string | undefined;
  root?: string | undefined;
  fetch?: typeof fetch | undefined;
  onProgress?: ((file: string, done: number, total: number | undefined) => void) | undefined;
}

export interface PulledManifest {
  id: string;
  revision: string;
  baseUrl: string;
  files: Record<string, { sha256: string; bytes: number; source: string }>;
  pulledAt: string;
}

/** Files wanted: local name → remote candidates (first found wins). */
const WANTED: ReadonlyArray<{ local: string; remote: string[]; required: boolean }> = [
  { local: 'model.onnx', remote: ['onnx/model.onnx', 'model.onnx'], required: true },
  { local: 'tokenizer.json', remote: ['tokenizer.json'], required: true },
  { local: 'tokenizer_config.json', remote: ['tokenizer_config.json'], required: true },
  { local: 'config.json', remote: ['config.json'], required: true },
  { local: 'special_tokens_map.json', remote: ['special_tokens_map.json'], required: false },
];

const ID_PATTERN = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export function modelDir(id: string, root = modelsDir()): string {
  return path.join(root, ...id.split('/'));
}

export async function pullModel(
  id: string,
  options: PullOptions = {},
): Promise<{ dir: string; manifest: PulledManifest; downloaded: string[] }> {
  if (!ID_PATTERN.test(id) || id.includes('..')) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `"${id}" is not a model id like Xenova/all-MiniLM-L6-v2`,
      {
        expected: 'owner/name',
      },
    );
  }
  const baseUrl = (options.baseUrl ?? process.env.SEMROUTE_HF_BASE_URL ?? 'https://huggingface.co').replace(
    /\/+$/,
    '',
  );
  const revision = options.revision ?? 'main';
  const doFetch = options.fetch ?? fetch;
  const dir = modelDir(id, options.root);
  await mkdir(dir, { recursive: true });
  const manifestFile = path.join(dir, 'manifest.json');
  const previous = await readFile(manifestFile, 'utf8')
    .then((t) => JSON.parse(t) as PulledManifest)
    .catch(() => undefined);
  const files: PulledManifest['files'] = {};
  const downloaded: string[] = [];

  for (const want of WANTED) {
    const target = path.join(dir, want.local);
    const known = previous?.files[want.local];
    if (
      known !== undefined &&
      (await sizeOf(target)) === known.bytes &&
      (await sha256File(target)) === known.sha256
    ) {
      files[want.local] = known;
      continue;
    }
    let done = false;
    for (const remote of want.remote) {
      const url = `${baseUrl}/${id}/resolve/${encodeURIComponent(revision)}/${remote}`;
      if (await download(url, target, doFetch, (d, t) => options.onProgress?.(want.local, d, t))) {
        files[want.local] = { sha256: await sha256File(target), bytes: await sizeOf(target), source: remote };
        downloaded.push(want.local);
        done = true;
        break;
      }
    }
    if (!done && want.required) {
      throw new SemrouteError(
        ErrorCode.MODEL_DOWNLOAD,
        `${id}: none of ${want.remote.join(', ')} found at ${baseUrl}`,
        {
          expected: 'a sentence-transformers model with an ONNX export',
        },
      );
    }
  }
  const manifest: PulledManifest = { id, revision, baseUrl, files, pulledAt: new Date().toISOString() };
  await writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, manifest, downloaded };
}

/** Downloads url to target via `<target>.part`, resuming it. False on 404. */
async function download(
  url: string,
  target: string,
  doFetch: typeof fetch,
  onProgress: (done: number, total: number | undefined) => void,
): Promise<boolean> {
  const part = `${target}.part`;
  let have = await sizeOf(part);
  let response: Response;
  try {
    response = await doFetch(url, have > 0 ? { headers: { range: `bytes=${have}-` } } : {});
  } catch (cause) {
    throw new SemrouteError(ErrorCode.MODEL_DOWNLOAD, `Cannot reach ${url}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (response.status === 404) return false;
  if (response.status === 416) {
    // The part file is already whole.
  } else if (response.status === 200) {
    have = 0;
    await writeFile(part, new Uint8Array());
  } else if (response.status !== 206) {
    throw new SemrouteError(ErrorCode.MODEL_DOWNLOAD, `GET ${url} answered HTTP ${response.status}`, {
      details: { status: response.status },
    });
  }
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? have + length : undefined;
  if (response.body && response.status !== 416) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await appendFile(part, chunk);
      have += chunk.length;
      onProgress(have, total);
    }
  }
  if (total !== undefined && have !== total) {
    throw new SemrouteError(
      ErrorCode.MODEL_DOWNLOAD,
      `${url}: got ${have} of ${total} bytes; run pull again to resume`,
    );
  }
  await rename(part, target);
  return true;
}

export interface InstalledModel {
  id: string;
  dir: string;
  kind: 'use-lite' | 'onnx';
  /** Bytes of model.onnx (for use-lite: the fp32 model, with its tensors in weights.bin). */
  bytes: number;
  /** use-lite only: bytes of the int8 model, the default, with its tensors in weights.bin. */
  int8Bytes?: number | undefined;
}

/** Models under the models folder: the built USE-lite model and pulled ONNX exports. */
export async function listModels(root = modelsDir()): Promise<InstalledModel[]> {
  const out: InstalledModel[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.name === 'manifest.json')) {
      const rel = path.relative(root, dir).split(path.sep).join('/');
      const onnx = path.join(dir, 'model.onnx');
      if (rel === 'use-lite') {
        // Its two models share one weights file: the manifest knows what each reads.
        const manifest = JSON.parse(
          await readFile(path.join(dir, 'manifest.json'), 'utf8').catch(() => '{}'),
        ) as { totalBytes?: number; int8?: { totalBytes?: number } };
        out.push({
          id: rel,
          dir,
          kind: 'use-lite',
          bytes: manifest.totalBytes ?? (await sizeOf(onnx)),
          int8Bytes: manifest.int8?.totalBytes ?? (await sizeOf(path.join(dir, 'model-int8.onnx'))),
        });
      } else out.push({ id: rel, dir, kind: 'onnx', bytes: await sizeOf(onnx) });
      return;
    }
    if (depth >= 2) return;
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name), depth + 1);
  };
  await walk(root, 0);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export async function removePartial(target: string): Promise<void> {
  await rm(`${target}.part`, { force: true });
}
