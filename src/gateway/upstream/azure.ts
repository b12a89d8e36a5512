/**
 * Azure OpenAI: the OpenAI API under `{api_base}/openai/deployments/{model}`, authenticated with
 * `api-key`, every call carrying `?api-version=` (`litellm_params.api_version`, else
 * `AZURE_API_VERSION`, else 2024-06-01).
 */
import { buildClient, pathOf } from './client.js';
import { openaiCalls } from './openai.js';
import type { Wire } from './wire.js';

export const AZURE_DEFAULT_API_VERSION = '2024-06-01';

export const azureWire: Wire = {
  name: 'azure',
  // The SDK's Azure client is another class: remote encoders reach Azure through the gateway.
  sdkCompatible: false,
  ...openaiCalls,
  client(target, dispatcher) {
    const base = new URL(`${target.baseUrl.replace(/\/+$/, '')}/openai/deployments/${target.model}`);
    const version = encodeURIComponent(target.apiVersion ?? AZURE_DEFAULT_API_VERSION);
    return buildClient(
      dispatcher,
      base,
      pathOf(base),
      { 'api-key': target.apiKey ?? '' },
      target,
      `?api-version=${version}`,
    );
  },
};
