/** Which models are semantic routers, and where their router.json files are: resolved once. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-schema.js';
import { semanticModels } from '../../src/config/semantic-models.js';
import { ErrorCode } from '../../src/errors.js';

describe('semanticModels', () => {
  it('lists auto_router entries and auto with their files resolved against the config folder', () => {
    const config = parseGatewayConfig({
      model_list: [
        { model_name: 'plain', litellm_params: { model: 'openai/m' } },
        {
          model_name: 'router1',
          litellm_params: {
            model: 'auto_router/one',
            auto_router_config_path: 'routes/one.json',
            auto_router_default_model: 'plain',
            auto_router_embedding_model: 'embedder',
          },
        },
        {
          model_name: 'inline',
          litellm_params: { model: 'auto_router/two', auto_router_config: { routes: [] } },
        },
      ],
      auto_router_config_path: '/abs/auto.json',
    });
    expect(semanticModels(config, '/srv/semroute')).toEqual([
      {
        model: 'router1',
        kind: 'auto_router',
        file: path.resolve('/srv/semroute/routes/one.json'),
        inline: undefined,
        defaultModel: 'plain',
        embeddingModel: 'embedder',
      },
      {
        model: 'inline',
        kind: 'auto_router',
        file: undefined,
        inline: { routes: [] },
        defaultModel: undefined,
        embeddingModel: undefined,
      },
      {
        model: 'auto',
        kind: 'auto',
        file: '/abs/auto.json',
        inline: undefined,
        defaultModel: undefined,
        embeddingModel: undefined,
      },
    ]);
  });

  it('names the entry when an auto_router has no router.json', () => {
    const config = parseGatewayConfig({
      model_list: [
        { model_name: 'plain', litellm_params: { model: 'openai/m' } },
        { model_name: 'broken', litellm_params: { model: 'auto_router/x' } },
      ],
    });
    expect(() => semanticModels(config, '/')).toThrowError(
      expect.objectContaining({
        code: ErrorCode.CONFIG_INVALID,
        path: 'model_list[1].litellm_params.auto_router_config_path',
      }),
    );
  });
});
