/**
 * Every encoder of `ENCODER_FACTORIES` runs the conformance suite, created the way a router.json
 * asks for it (`createEncoder` with its spec). An encoder added to the map without a fixture
 * here fails the first test.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEncoder,
  ENCODER_FACTORIES,
  type EncoderSpec,
  encoderTypes,
} from '../../src/embeddings/create.js';
import { EncoderPool } from '../../src/embeddings/pool.js';
import { ErrorCode } from '../../src/errors.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../helpers/encoder.js';
import { type TinyBert, writeTinyBert } from '../helpers/tiny-bert.js';
import { runEncoderConformance } from './encoder.case.js';

let upstream: FakeUpstream;
let tinyBert: TinyBert;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  [upstream, tinyBert] = await Promise.all([
    startFakeUpstream({ dimensions: 32 }),
    writeTinyBert(path.join(tmp.dir, 'tiny-bert')),
  ]);
});
afterAll(async () => {
  await upstream.close();
  await cleanup();
});

/** The router.json spec each encoder is tried with; `semantic`: it is a real model, so meaning shows. */
const FIXTURES: Record<string, { spec: () => EncoderSpec; semantic: boolean }> = {
  'use-lite': { spec: () => ({ type: 'use-lite' }), semantic: true },
  onnx: { spec: () => ({ type: 'onnx', name: tinyBert.dir }), semantic: false },
  openai: {
    spec: () => ({
      type: 'openai',
      name: 'fake-embed',
      options: { api_key: 'sk-test-key', base_url: upstream.url, batch_size: 16 },
    }),
    semantic: false,
  },
};

describe('encoders', () => {
  it('has a conformance fixture for every encoder in ENCODER_FACTORIES', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(Object.keys(ENCODER_FACTORIES).sort());
  });

  it('names the file, the JSON path and every valid type for an unknown encoder_type', async () => {
    const error = await createEncoder({ type: 'cohere', file: 'routes/aurelio.json' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: ErrorCode.ENCODER_UNKNOWN,
      file: 'routes/aurelio.json',
      path: 'encoder_type',
    });
    for (const type of encoderTypes()) expect((error as Error).message).toContain(type);
    expect((error as Error).message).toContain('routes/aurelio.json');
  });

  it('loads the int8 build of use-lite by default and fp32 when router.json asks, by option or by name', async () => {
    const made = await Promise.all([
      createEncoder({ type: 'use-lite' }),
      createEncoder({ type: 'use-lite', options: { precision: 'fp32' } }),
      createEncoder({ type: 'use-lite', name: 'use-lite-fp32' }),
    ]);
    expect(made.map((e) => e.id.split('@')[0])).toEqual(['use-lite-int8', 'use-lite', 'use-lite']);
    await Promise.all(made.map((e) => e.close()));
    const error = await createEncoder({
      type: 'use-lite',
      options: { precision: 'fp16' },
      file: 'routes/r.json',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
      file: 'routes/r.json',
      path: 'encoder_options.precision',
    });
    expect((error as Error).message).toContain('fp16');
    const arena = await createEncoder({
      type: 'use-lite',
      options: { memory_arena: 'yes' },
      file: 'routes/r.json',
    }).catch((e: unknown) => e);
    expect(arena).toMatchObject({ code: ErrorCode.CONFIG_INVALID, path: 'encoder_options.memory_arena' });
    const withArena = await createEncoder({ type: 'use-lite', options: { memory_arena: true } });
    expect((await withArena.embed(['arena on']))[0]).toHaveLength(512);
    await withArena.close();
  });

  it('shares one load per spec in a pool, and never closes an encoder it was lent', async () => {
    const pool = new EncoderPool();
    const spec = FIXTURES.onnx!.spec();
    const [a, b] = await Promise.all([pool.get(spec), pool.get({ ...spec, type: 'huggingface' })]);
    expect(a).toBe(b);
    expect(await pool.get({ ...spec, options: { max_length: 16 } })).not.toBe(a);
    const lent = await createEncoder(FIXTURES.openai!.spec());
    const borrowing = new EncoderPool().provide(FIXTURES.openai!.spec(), lent);
    expect(await borrowing.get(FIXTURES.openai!.spec())).toBe(lent);
    await borrowing.close();
    expect((await lent.embed(['still open'])).length).toBe(1);
    await Promise.all([pool.close(), lent.close()]);
  });
});

for (const [type, fixture] of Object.entries(FIXTURES)) {
  runEncoderConformance(type, () => createEncoder(fixture.spec()), { semantic: fixture.semantic });
}
