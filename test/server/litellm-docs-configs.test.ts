/**
 * The provider sections of LiteLLM's proxy docs, as a user copies them (restated here, values
 * ours): each config starts, lists its deployments in /health, and a provider semroute cannot
 * call is marked so instead of stopping the start. These are the configs #30 found refused.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

let dir: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir();
  await writeFile(
    path.join(dir.dir, 'service_account.json'),
    JSON.stringify({
      type: 'service_account',
      project_id: 'my-project',
      private_key: '-----BEGIN PRIVATE KEY-----\nnot used: no call is made\n-----END PRIVATE KEY-----\n',
      client_email: 'litellm@my-project.iam.gserviceaccount.com',
    }),
  );
});
afterAll(() => dir?.cleanup());

const ENV = {
  CUSTOM_AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  CUSTOM_AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  CUSTOM_AWS_REGION_NAME: 'us-east-1',
  COHERE_API_KEY: 'co-x',
  TOGETHERAI_API_KEY: 'tg-x',
  HF_TOKEN: 'hf_x',
  OPENAI_API_KEY: 'sk-x',
};

const CONFIGS: Record<string, { yaml: (dir: string) => string; healthy: string[]; unavailable?: string[] }> =
  {
    'Bedrock (providers/bedrock)': {
      yaml: () => `model_list:
  - model_name: bedrock-claude-v1
    litellm_params:
      model: bedrock/anthropic.claude-instant-v1
      aws_access_key_id: os.environ/CUSTOM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY
      aws_region_name: os.environ/CUSTOM_AWS_REGION_NAME
  - model_name: bedrock-claude-3-5-sonnet
    litellm_params:
      model: bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_region_name: us-west-2
      aws_access_key_id: os.environ/CUSTOM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY
  - model_name: titan-embed
    litellm_params: { model: bedrock/amazon.titan-embed-text-v1, aws_access_key_id: os.environ/CUSTOM_AWS_ACCESS_KEY_ID, aws_secret_access_key: os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY }
`,
      healthy: ['bedrock-claude-v1', 'bedrock-claude-3-5-sonnet', 'titan-embed'],
    },
    'Vertex AI (providers/vertex)': {
      yaml: (d) => `model_list:
  - model_name: gemini-vision
    litellm_params:
      model: vertex_ai/gemini-1.0-pro-vision-001
      vertex_project: "project-id"
      vertex_location: "us-central1"
      vertex_credentials: "${path.join(d, 'service_account.json')}"
  - model_name: anthropic-vertex
    litellm_params:
      model: vertex_ai/claude-3-sonnet@20240229
      vertex_ai_project: "my-test-project"
      vertex_ai_location: "us-east5"
      vertex_credentials: "${path.join(d, 'service_account.json')}"
`,
      healthy: ['gemini-vision', 'anthropic-vertex'],
    },
    'Rerank (rerank)': {
      yaml: () => `model_list:
  - model_name: Salesforce/Llama-Rank-V1
    litellm_params:
      model: together_ai/Salesforce/Llama-Rank-V1
      api_key: os.environ/TOGETHERAI_API_KEY
  - model_name: rerank-english-v3.0
    litellm_params:
      model: cohere/rerank-english-v3.0
      api_key: os.environ/COHERE_API_KEY
  - model_name: command-r
    litellm_params: { model: cohere_chat/command-r, api_key: os.environ/COHERE_API_KEY }
`,
      healthy: ['Salesforce/Llama-Rank-V1', 'rerank-english-v3.0', 'command-r'],
    },
    'Hugging Face (providers/huggingface)': {
      yaml: () => `model_list:
  - model_name: llama-3.1-8B-instruct
    litellm_params:
      model: huggingface/together/meta-llama/Llama-3.1-8B-Instruct
      api_key: os.environ/HF_TOKEN
  - model_name: my-tgi
    litellm_params: { model: huggingface/tgi, api_base: https://my-endpoint.endpoints.huggingface.cloud/v1/ }
`,
      healthy: ['llama-3.1-8B-instruct', 'my-tgi'],
    },
    'SageMaker beside OpenAI (providers/aws_sagemaker)': {
      yaml: () => `model_list:
  - model_name: jumpstart-model
    litellm_params:
      model: sagemaker/jumpstart-dft-meta-textgeneration-llama-2-7b
      aws_region_name: us-west-2
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY }
router_settings:
  fallbacks: [{ jumpstart-model: [gpt-4o] }]
`,
      healthy: ['gpt-4o'],
      unavailable: ['jumpstart-model'],
    },
  };

describe("LiteLLM's provider docs, copied", () => {
  for (const [name, { yaml, healthy, unavailable = [] }] of Object.entries(CONFIGS))
    it(`${name} starts, every deployment listed`, async () => {
      const config = path.join(dir.dir, `${name.replace(/\W+/g, '-')}.yaml`);
      await writeFile(config, yaml(dir.dir));
      const server = await serve({
        config,
        port: 0,
        signals: false,
        watch: false,
        logger: false,
        env: { ...ENV, PATH: process.env.PATH },
      });
      try {
        const health = (await (await fetch(`${server.url}/health`)).json()) as {
          deployments: Array<{ model: string; healthy: boolean; unavailable?: string }>;
        };
        const byModel = new Map(health.deployments.map((d) => [d.model, d]));
        for (const model of healthy) expect(byModel.get(model)?.healthy, model).toBe(true);
        for (const model of unavailable) {
          expect(byModel.get(model)?.healthy, model).toBe(false);
          expect(byModel.get(model)?.unavailable, model).toContain('semroute cannot call');
        }
        expect(health.deployments).toHaveLength(healthy.length + unavailable.length);
      } finally {
        await server.close();
      }
    });
});
