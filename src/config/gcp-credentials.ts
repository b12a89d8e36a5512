/**
 * Google Cloud settings of a Vertex AI deployment, read as LiteLLM reads them: the project
 * (`vertex_project`, else `VERTEXAI_PROJECT` / `VERTEX_PROJECT` / `GOOGLE_CLOUD_PROJECT`, else
 * the credentials' own `project_id`), the location (`vertex_location`, else `VERTEXAI_LOCATION`
 * / `VERTEX_LOCATION`, else us-central1) and the credentials: `vertex_credentials` as a path to
 * a JSON key file or the JSON itself, else `VERTEXAI_CREDENTIALS`, else the file
 * `GOOGLE_APPLICATION_CREDENTIALS` names. A service account key (`type: service_account`) or a
 * user's refresh token (`authorized_user`, what `gcloud auth application-default login` writes).
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, SemrouteError } from '../errors.js';

export type GoogleCredentials =
  | {
      readonly type: 'service_account';
      readonly clientEmail: string;
      readonly privateKey: string;
      readonly privateKeyId: string | undefined;
      readonly tokenUri: string;
      readonly projectId: string | undefined;
    }
  | {
      readonly type: 'authorized_user';
      readonly clientId: string;
      readonly clientSecret: string;
      readonly refreshToken: string;
      readonly tokenUri: string;
      readonly projectId: string | undefined;
    };

export interface VertexSettings {
  readonly project: string;
  readonly location: string;
  /** Undefined when none was found: the deployment's calls are refused (warned at start). */
  readonly credentials: GoogleCredentials | undefined;
  /** Where the credentials came from, for messages (never the values). */
  readonly source: string;
}

export interface VertexParams {
  readonly vertex_project?: string | undefined;
  readonly vertex_location?: string | undefined;
  /** LiteLLM's other spellings of the two. */
  readonly vertex_ai_project?: string | undefined;
  readonly vertex_ai_location?: string | undefined;
  /** A path to a key file, or the key's JSON (an object once YAML has read it). */
  readonly vertex_credentials?: string | Record<string, unknown> | undefined;
}

/** The Google variables read (copied once with the provider variables). */
export const GCP_ENV = [
  'VERTEXAI_PROJECT',
  'VERTEX_PROJECT',
  'GOOGLE_CLOUD_PROJECT',
  'VERTEXAI_LOCATION',
  'VERTEX_LOCATION',
  'VERTEXAI_CREDENTIALS',
  'GOOGLE_APPLICATION_CREDENTIALS',
] as const;

const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

function parseKey(text: string, from: string, fail: (why: string) => SemrouteError): GoogleCredentials {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw fail(`${from} is not JSON`);
  }
  return keyOf(json, from, fail);
}

function keyOf(
  json: Record<string, unknown>,
  from: string,
  fail: (why: string) => SemrouteError,
): GoogleCredentials {
  const str = (k: string) =>
    typeof json[k] === 'string' && json[k] !== '' ? (json[k] as string) : undefined;
  const tokenUri = str('token_uri') ?? GOOGLE_TOKEN_URI;
  const projectId = str('project_id') ?? str('quota_project_id');
  if (json.type === 'service_account') {
    const clientEmail = str('client_email');
    const privateKey = str('private_key');
    if (clientEmail === undefined || privateKey === undefined)
      throw fail(`${from}: a service account key needs client_email and private_key`);
    return {
      type: 'service_account',
      clientEmail,
      privateKey,
      privateKeyId: str('private_key_id'),
      tokenUri,
      projectId,
    };
  }
  if (json.type === 'authorized_user') {
    const clientId = str('client_id');
    const clientSecret = str('client_secret');
    const refreshToken = str('refresh_token');
    if (clientId === undefined || clientSecret === undefined || refreshToken === undefined)
      throw fail(`${from}: authorized_user credentials need client_id, client_secret and refresh_token`);
    return { type: 'authorized_user', clientId, clientSecret, refreshToken, tokenUri, projectId };
  }
  throw fail(
    `${from}: type ${JSON.stringify(json.type)} is not one semroute reads (service_account or authorized_user)`,
  );
}

function credentialsOf(
  value: string | Record<string, unknown>,
  from: string,
  fail: (why: string) => SemrouteError,
): GoogleCredentials {
  if (typeof value !== 'string') return keyOf(value, from, fail);
  if (value.trimStart().startsWith('{')) return parseKey(value, from, fail);
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch {
    throw fail(`${from}: the key file ${value} cannot be read`);
  }
  return parseKey(text, `${from} (${value})`, fail);
}

export function vertexSettings(
  params: VertexParams,
  env: Readonly<Record<string, string | undefined>>,
  where: { label: string; path: string },
): VertexSettings {
  const invalid = (key: string, expected: string) => (why: string) =>
    new SemrouteError(ErrorCode.CONFIG_INVALID, `${where.label}: ${why}`, {
      path: `${where.path}.litellm_params.${key}`,
      expected,
    });
  let credentials: GoogleCredentials | undefined;
  let source = 'none';
  if (params.vertex_credentials !== undefined) {
    credentials = credentialsOf(
      params.vertex_credentials,
      'vertex_credentials',
      invalid('vertex_credentials', 'a path to a service account key file, or its JSON'),
    );
    source = 'litellm_params.vertex_credentials';
  } else if (env.VERTEXAI_CREDENTIALS !== undefined) {
    credentials = credentialsOf(
      env.VERTEXAI_CREDENTIALS,
      'VERTEXAI_CREDENTIALS',
      invalid('vertex_credentials', 'a key file or JSON'),
    );
    source = 'VERTEXAI_CREDENTIALS';
  } else if (env.GOOGLE_APPLICATION_CREDENTIALS !== undefined) {
    credentials = credentialsOf(
      env.GOOGLE_APPLICATION_CREDENTIALS,
      'GOOGLE_APPLICATION_CREDENTIALS',
      invalid('vertex_credentials', 'a key file'),
    );
    source = 'GOOGLE_APPLICATION_CREDENTIALS';
  }
  const project =
    params.vertex_project ??
    params.vertex_ai_project ??
    env.VERTEXAI_PROJECT ??
    env.VERTEX_PROJECT ??
    env.GOOGLE_CLOUD_PROJECT ??
    credentials?.projectId;
  if (project === undefined)
    throw invalid(
      'vertex_project',
      'a Google Cloud project id',
    )(
      'Vertex AI needs a project: set vertex_project (or VERTEXAI_PROJECT, or credentials with a project_id)',
    );
  const location =
    params.vertex_location ??
    params.vertex_ai_location ??
    env.VERTEXAI_LOCATION ??
    env.VERTEX_LOCATION ??
    'us-central1';
  return { project, location, credentials, source };
}

/** Vertex AI's regional host (the `global` location has none of its own). */
export function vertexHost(location: string): string {
  return location === 'global'
    ? 'https://aiplatform.googleapis.com'
    : `https://${location}-aiplatform.googleapis.com`;
}
