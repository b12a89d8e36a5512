/**
 * AWS settings of a Bedrock deployment, read as LiteLLM reads them: `aws_access_key_id`,
 * `aws_secret_access_key` and `aws_session_token` in litellm_params; else `aws_profile_name`'s
 * section of the shared credentials file; else the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
 * / `AWS_SESSION_TOKEN` variables; else `AWS_PROFILE`'s (or `default`'s) section of the file.
 * A Bedrock API key (`api_key`, or `AWS_BEARER_TOKEN_BEDROCK`) is sent as a bearer token instead
 * of signing. The region: `aws_region_name`, else `AWS_REGION_NAME`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION`, else us-west-2 (LiteLLM's default).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../errors.js';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface AwsSettings {
  readonly region: string;
  /** For SigV4; undefined when a bearer token is used, or nothing was found (calls refused). */
  readonly credentials: AwsCredentials | undefined;
  /** A Bedrock API key: `Authorization: Bearer`, no signing. */
  readonly bearerToken: string | undefined;
  /** Where the credentials came from, for messages (never the values). */
  readonly source: string;
}

/** The AWS variables read (copied once with the provider variables). */
export const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION_NAME',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_BEARER_TOKEN_BEDROCK',
  'HOME',
] as const;

export interface AwsParams {
  readonly api_key?: string | undefined;
  readonly aws_access_key_id?: string | undefined;
  readonly aws_secret_access_key?: string | undefined;
  readonly aws_session_token?: string | undefined;
  readonly aws_region_name?: string | undefined;
  readonly aws_profile_name?: string | undefined;
}

/** The sections of an INI credentials file: `[name]` then `key = value` lines. */
export function parseCredentialsFile(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = {};
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current !== undefined)
      current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

function fromFile(
  profile: string,
  env: Readonly<Record<string, string | undefined>>,
  where: { label: string; path: string },
  required: boolean,
): AwsCredentials | undefined {
  const file = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(env.HOME ?? '', '.aws', 'credentials');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    if (!required) return undefined;
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${where.label}: aws_profile_name "${profile}": the shared credentials file ${file} cannot be read`,
      {
        path: `${where.path}.litellm_params.aws_profile_name`,
        expected: 'a profile of the credentials file',
      },
    );
  }
  const section = parseCredentialsFile(text).get(profile);
  const id = section?.aws_access_key_id;
  const secret = section?.aws_secret_access_key;
  if (id === undefined || secret === undefined) {
    if (!required) return undefined;
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${where.label}: aws_profile_name "${profile}": ${file} has no [${profile}] with aws_access_key_id and aws_secret_access_key`,
      {
        path: `${where.path}.litellm_params.aws_profile_name`,
        expected: 'a profile of the credentials file',
      },
    );
  }
  return { accessKeyId: id, secretAccessKey: secret, sessionToken: section?.aws_session_token };
}

export function awsSettings(
  params: AwsParams,
  env: Readonly<Record<string, string | undefined>>,
  where: { label: string; path: string },
): AwsSettings {
  const region =
    params.aws_region_name ?? env.AWS_REGION_NAME ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-west-2';
  const bearer = params.api_key ?? env.AWS_BEARER_TOKEN_BEDROCK;
  if (bearer !== undefined)
    return {
      region,
      credentials: undefined,
      bearerToken: bearer,
      source: params.api_key !== undefined ? 'litellm_params.api_key' : 'AWS_BEARER_TOKEN_BEDROCK',
    };
  const { aws_access_key_id: id, aws_secret_access_key: secret } = params;
  if (id !== undefined || secret !== undefined) {
    if (id === undefined || secret === undefined)
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${where.label}: aws_access_key_id and aws_secret_access_key go together; one is missing`,
        {
          path: `${where.path}.litellm_params.${id === undefined ? 'aws_access_key_id' : 'aws_secret_access_key'}`,
        },
      );
    return {
      region,
      credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: params.aws_session_token },
      bearerToken: undefined,
      source: 'litellm_params.aws_access_key_id',
    };
  }
  if (params.aws_profile_name !== undefined)
    return {
      region,
      credentials: fromFile(params.aws_profile_name, env, where, true),
      bearerToken: undefined,
      source: `profile ${params.aws_profile_name}`,
    };
  if (env.AWS_ACCESS_KEY_ID !== undefined && env.AWS_SECRET_ACCESS_KEY !== undefined)
    return {
      region,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN,
      },
      bearerToken: undefined,
      source: 'AWS_ACCESS_KEY_ID',
    };
  const profile = env.AWS_PROFILE ?? 'default';
  const credentials = fromFile(profile, env, where, env.AWS_PROFILE !== undefined);
  return { region, credentials, bearerToken: undefined, source: `profile ${profile}` };
}
