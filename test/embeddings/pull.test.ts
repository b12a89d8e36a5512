import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEncoder } from '../../src/embeddings/onnx.js';
import { listModels, pullModel } from '../../src/embeddings/pull.js';
import { ErrorCode, type SemrouteError } from '../../src/errors.js';
import { tempDir } from '../helpers/encoder.js';
import { writeTinyBert } from '../helpers/tiny-bert.js';

/** A hub-shaped file server on 127.0.0.1 serving a generated model, with Range support. */
let server: Server;
let baseUrl: string;
let files: Map<string, Buffer>;
let cleanup: () => Promise<void>;
const served: Array<{ url: string; range: string | undefined; status: number }> = [];
let cutAfter: number | undefined;
/** The response being cut: held open until the client has stored the bytes sent so far. */
let cutResponse: { destroy(): void } | undefined;

beforeAll(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  const model = await writeTinyBert(path.join(tmp.dir, 'src'));
  files = new Map();
  for (const name of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) {
    const remote = name === 'model.onnx' ? 'onnx/model.onnx' : name;
    files.set(`/acme/tiny-bert/resolve/main/${remote}`, await readFile(path.join(model.dir, name)));
  }
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) {
      served.push({ url: req.url!, range: undefined, status: 404 });
      res.writeHead(404).end('not found');
      return;
    }
    const range = req.headers.range;
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const status = range ? 206 : 200;
    served.push({ url: req.url!, range, status });
    const slice = body.subarray(start);
    res.writeHead(status, { 'content-length': String(slice.length) });
    if (cutAfter !== undefined && req.url!.endsWith('model.onnx') && !range) {
      // Send part of the file, then drop the connection once the client has written it to its
      // part file (a timer raced a loaded machine: fetch drops chunks still queued when the body
      // errors, so the pull rightly started again from 0). The pull must resume from there.
      res.write(slice.subarray(0, cutAfter));
      cutAfter = undefined;
      cutResponse = res;
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  server.close();
  await cleanup();
});

describe('semroute models pull', () => {
  it('downloads an export with a checksum manifest, resumes a cut download, and skips verified files', async () => {
    const { dir, cleanup: done } = await tempDir();
    try {
      cutAfter = 100;
      const first = await pullModel('acme/tiny-bert', {
        baseUrl,
        root: dir,
        onProgress: (file, done) => {
          if (file === 'model.onnx' && done >= 100) cutResponse?.destroy();
        },
      }).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(Error);
      served.length = 0;
      const second = await pullModel('acme/tiny-bert', { baseUrl, root: dir });
      const modelRequest = served.find((s) => s.url.endsWith('onnx/model.onnx'));
      expect(modelRequest?.range).toBe('bytes=100-');
      expect(modelRequest?.status).toBe(206);
      const expected = files.get('/acme/tiny-bert/resolve/main/onnx/model.onnx')!;
      expect(second.manifest.files['model.onnx']!.sha256).toBe(
        createHash('sha256').update(expected).digest('hex'),
      );
      expect(await readFile(path.join(second.dir, 'model.onnx'))).toEqual(expected);

      served.length = 0;
      const third = await pullModel('acme/tiny-bert', { baseUrl, root: dir });
      expect(third.downloaded).toEqual([]);
      expect(served.filter((s) => s.status !== 404)).toEqual([]);

      // A corrupted file fails its checksum and is fetched again.
      await writeFile(path.join(second.dir, 'tokenizer.json'), '{}');
      const fourth = await pullModel('acme/tiny-bert', { baseUrl, root: dir });
      expect(fourth.downloaded).toEqual(['tokenizer.json']);

      const encoder = await OnnxEncoder.load({ dir: second.dir });
      expect((await encoder.embed(['hello world']))[0]!.length).toBe(8);
      await encoder.close();
      expect((await listModels(dir)).map((m) => m.id)).toEqual(['acme/tiny-bert']);
    } finally {
      await done();
    }
  });

  it('fails clearly for an unknown model and a bad id', async () => {
    const { dir, cleanup: done } = await tempDir();
    try {
      const missing = await pullModel('acme/nope', { baseUrl, root: dir }).catch((e: unknown) => e);
      expect((missing as SemrouteError).code).toBe(ErrorCode.MODEL_DOWNLOAD);
      const bad = await pullModel('../etc', { baseUrl, root: dir }).catch((e: unknown) => e);
      expect((bad as SemrouteError).code).toBe(ErrorCode.INPUT_INVALID);
    } finally {
      await done();
    }
  });
});
