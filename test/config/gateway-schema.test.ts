/** The gateway config: parsed once, frozen, and never parsed again by whoever receives it. */
import { describe, expect, it } from 'vitest';
import { isParsedGatewayConfig, parseGatewayConfig } from '../../src/config/gateway-schema.js';
import { Gateway } from '../../src/gateway/gateway.js';

const raw = () => ({
  model_list: [
    { model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'os.environ/SEMROUTE_SCHEMA_KEY' } },
  ],
  num_retries: 1,
});

describe('parseGatewayConfig', () => {
  it('resolves env refs, applies defaults, and freezes the result deeply', () => {
    process.env.SEMROUTE_SCHEMA_KEY = 'sk-schema';
    const config = parseGatewayConfig(raw());
    expect(config.model_list[0]!.litellm_params.api_key).toBe('sk-schema');
    expect(config.cooldown_time).toBe(5);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.model_list[0]!.litellm_params)).toBe(true);
    expect(() => {
      (config as { num_retries: number }).num_retries = 9;
    }).toThrow(TypeError);
  });

  it('returns a parsed config as it is, and the gateway keeps that very object', async () => {
    process.env.SEMROUTE_SCHEMA_KEY = 'sk-schema';
    const config = parseGatewayConfig(raw());
    expect(isParsedGatewayConfig(config)).toBe(true);
    expect(isParsedGatewayConfig(raw())).toBe(false);
    // Changing the environment afterwards changes nothing: it was read once.
    process.env.SEMROUTE_SCHEMA_KEY = 'sk-changed';
    expect(parseGatewayConfig(config)).toBe(config);
    const gateway = await Gateway.create(config);
    expect(gateway.config).toBe(config);
    expect(gateway.config.model_list[0]!.litellm_params.api_key).toBe('sk-schema');
    await gateway.close();
  });
});
