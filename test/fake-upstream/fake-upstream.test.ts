/** The fake upstream speaks OpenAI's and Azure's wire format to the official clients. */
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  pseudoEmbedding,
  startFakeUpstream,
} from '../../src/fake-upstream/fake-upstream.js';

let upstream: FakeUpstream;
let wide: FakeUpstream;
beforeAll(async () => {
  [upstream, wide] = await Promise.all([startFakeUpstream(), startFakeUpstream({ dimensions: 8 })]);
});
afterAll(async () => {
  await Promise.all([upstream.close(), wide.close()]);
});

const close = (a: readonly number[], b: readonly number[]) => a.every((x, i) => Math.abs(x - b[i]!) < 1e-6);

describe('fake upstream', () => {
  it("answers embeddings in base64 (the openai client's default), as wide as the model asked for", async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: upstream.url, maxRetries: 0 });
    const large = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: ['hello', 'world'],
    });
    expect(upstream.requests.at(-1)!.body).toMatchObject({ encoding_format: 'base64' });
    expect(large.data).toHaveLength(2);
    expect(large.data[0]!.embedding).toHaveLength(3072);
    expect(close(large.data[0]!.embedding, pseudoEmbedding('hello', 3072))).toBe(true);
    const small = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'x',
      encoding_format: 'float',
    });
    expect(small.data[0]!.embedding).toHaveLength(1536);
    const other = await client.embeddings.create({ model: 'my-embedder', input: 'x' });
    expect(other.data[0]!.embedding).toHaveLength(64);
    const reduced = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'x',
      dimensions: 256,
    });
    expect(reduced.data[0]!.embedding).toHaveLength(256);
  });

  it('keeps one width for every model when started with one (--embedding-dim)', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: wide.url, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x' });
    expect(res.data[0]!.embedding).toHaveLength(8);
  });

  it("serves Azure OpenAI's deployment paths to the official AzureOpenAI client", async () => {
    const azure = new AzureOpenAI({
      apiKey: 'azure-key',
      endpoint: upstream.url.replace(/\/v1$/, ''),
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-prod',
      maxRetries: 0,
    });
    const chat = await azure.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.choices[0]!.message.content).toBe('echo: hi');
    expect(chat.model).toBe('gpt-4o-prod');
    const last = upstream.requests.at(-1)!;
    expect(last.url).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    expect(last.headers['api-key']).toBe('azure-key');
    const stream = await azure.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'streamed' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('echo: streamed');
    const embedder = new AzureOpenAI({
      apiKey: 'azure-key',
      endpoint: upstream.url.replace(/\/v1$/, ''),
      apiVersion: '2024-10-21',
      deployment: 'text-embedding-3-small',
      maxRetries: 0,
    });
    const embedded = await embedder.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(embedded.data[0]!.embedding).toHaveLength(1536);
  });
});
