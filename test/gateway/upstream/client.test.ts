import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { createClient } from '../../../src/gateway/upstream/wire.js';

describe('upstream client', () => {
  it('builds OpenAI, Azure and local targets with the right paths and auth headers', () => {
    const [openai, azure, local] = parseGatewayConfig({
      model_list: [
        {
          model_name: 'a',
          litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-a', organization: 'org-1' },
        },
        {
          model_name: 'b',
          litellm_params: {
            model: 'azure/my-dep',
            api_base: 'https://x.openai.azure.com/',
            api_key: 'az',
            api_version: '2024-10-21',
          },
        },
        {
          model_name: 'c',
          litellm_params: { model: 'hosted_vllm/llama', api_base: 'http://127.0.0.1:8000/v1/' },
        },
      ],
    }).resolved.targets.map((t) => createClient(t!));
    expect(openai).toMatchObject({
      origin: 'https://api.openai.com',
      basePath: '/v1',
      query: '',
      headers: { authorization: 'Bearer sk-a', 'openai-organization': 'org-1' },
    });
    expect(azure).toMatchObject({
      origin: 'https://x.openai.azure.com',
      basePath: '/openai/deployments/my-dep',
      query: '?api-version=2024-10-21',
      headers: { 'api-key': 'az' },
    });
    expect(azure!.headers).not.toHaveProperty('authorization');
    expect(local).toMatchObject({
      origin: 'http://127.0.0.1:8000',
      basePath: '/v1',
      headers: { authorization: 'Bearer sk-no-key' },
    });
  });

  it('reaches Anthropic under /v1/messages with x-api-key and a version, and Ollama under /v1', () => {
    const targets = parseGatewayConfig({
      model_list: [
        {
          model_name: 'a',
          litellm_params: { model: 'anthropic/claude-3-5-haiku-latest', api_key: 'sk-ant' },
        },
        {
          model_name: 'b',
          litellm_params: {
            model: 'claude-3-5-haiku-latest',
            api_base: 'http://127.0.0.1:9/v1/messages',
            api_key: 'k',
          },
        },
        { model_name: 'c', litellm_params: { model: 'ollama/llama3', api_base: 'http://127.0.0.1:11434' } },
      ],
    }).resolved.targets.map((t) => createClient(t!));
    expect(targets[0]).toMatchObject({
      origin: 'https://api.anthropic.com',
      basePath: '/v1',
      headers: { 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' },
    });
    expect(targets[0]!.headers).not.toHaveProperty('authorization');
    expect(targets[1]).toMatchObject({ origin: 'http://127.0.0.1:9', basePath: '/v1' });
    expect(targets[2]).toMatchObject({ origin: 'http://127.0.0.1:11434', basePath: '/v1' });
  });
});
