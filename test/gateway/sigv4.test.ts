/**
 * Our SigV4 signer against AWS: the published test suite (each step where the suite publishes
 * it), and AWS's own signer (@smithy/signature-v4, what the AWS SDK for JavaScript signs with)
 * on requests shaped like Bedrock's: model ids with `:` and `/`, JSON bodies, session tokens.
 */
import { readFileSync } from 'node:fs';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  amzDate,
  canonicalRequest,
  signingKey,
  signRequest,
  stringToSign,
} from '../../src/gateway/upstream/sigv4.js';

interface SuiteCase {
  name: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  canonical?: string;
  stringToSign?: string;
  authorization: string;
}

const suite = JSON.parse(
  readFileSync(new URL('../fixtures/sigv4/aws-sigv4-test-suite.json', import.meta.url), 'utf8'),
) as {
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  service: string;
  time: string;
  signingKeyExample: { secret: string; date: string; region: string; service: string; key: string };
  cases: SuiteCase[];
};
const time = new Date(suite.time);
const HOST = 'example.amazonaws.com';

describe('SigV4, the AWS test suite', () => {
  it('derives the signing key of AWS’s example', () => {
    const { secret, date, region, service, key } = suite.signingKeyExample;
    expect(signingKey(secret, date, region, service).toString('hex')).toBe(key);
  });

  it('writes the time as AWS does', () => {
    expect(amzDate(time)).toBe('20150830T123600Z');
  });

  for (const c of suite.cases)
    it(c.name, () => {
      const request = {
        method: c.method,
        path: c.path,
        query: c.query,
        headers: { Host: HOST, ...c.headers },
        body: c.body,
      };
      const signed = { ...request, headers: { ...request.headers, 'X-Amz-Date': amzDate(time) } };
      const { text } = canonicalRequest(signed);
      if (c.canonical !== undefined) expect(text).toBe(c.canonical);
      if (c.stringToSign !== undefined)
        expect(
          stringToSign(text, { region: suite.region, service: suite.service, amzDate: amzDate(time) }),
        ).toBe(c.stringToSign);
      const headers = signRequest(request, suite.credentials, suite.region, suite.service, time);
      expect(headers.authorization).toBe(c.authorization);
      expect(headers['x-amz-date']).toBe('20150830T123600Z');
    });
});

describe('SigV4, beside AWS’s own signer', () => {
  const id = fc.stringMatching(/^[A-Z0-9]{16,20}$/);
  const secret = fc.stringMatching(/^[A-Za-z0-9/+]{40}$/);
  // Bedrock's model ids and ARNs: dots, colons, slashes, versions.
  const model = fc.oneof(
    fc.constantFrom(
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'us.anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-1b-instruct-v1:0',
      'amazon.titan-embed-text-v2:0',
    ),
    fc.stringMatching(/^[a-z][a-z0-9.:_-]{0,40}$/),
  );
  const action = fc.constantFrom('converse', 'converse-stream', 'invoke');
  const body = fc.json();
  const region = fc.constantFrom('us-east-1', 'us-west-2', 'eu-central-1', 'ap-northeast-1');
  const token = fc.option(fc.stringMatching(/^[A-Za-z0-9/+=]{20,200}$/), { nil: undefined });
  const when = fc.date({
    min: new Date('2020-01-01T00:00:00Z'),
    max: new Date('2030-12-31T23:59:59Z'),
    noInvalidDate: true,
  });

  it('signs every Bedrock-shaped request exactly as @smithy/signature-v4 does', async () => {
    await fc.assert(
      fc.asyncProperty(
        id,
        secret,
        model,
        action,
        body,
        region,
        token,
        when,
        async (akid, sk, m, a, b, r, t, at) => {
          const host = `bedrock-runtime.${r}.amazonaws.com`;
          // What the wire sends: the model id percent-encoded once as one path segment.
          const path = `/model/${encodeURIComponent(m)}/${a}`;
          const credentials = { accessKeyId: akid, secretAccessKey: sk, sessionToken: t };
          const ours = signRequest(
            {
              method: 'POST',
              path,
              query: '',
              headers: { host, 'content-type': 'application/json' },
              body: b,
            },
            credentials,
            r,
            'bedrock',
            at,
          );
          // The SDK's Bedrock client signs no x-amz-content-sha256 (that header is S3's).
          const aws = new SignatureV4({
            credentials:
              t === undefined
                ? { accessKeyId: akid, secretAccessKey: sk }
                : { ...credentials, sessionToken: t },
            region: r,
            service: 'bedrock',
            sha256: Sha256,
            applyChecksum: false,
          });
          const theirs = await aws.sign(
            {
              method: 'POST',
              protocol: 'https:',
              hostname: host,
              path,
              headers: { host, 'content-type': 'application/json' },
              body: b,
            },
            { signingDate: at },
          );
          expect(ours.authorization).toBe(theirs.headers.authorization);
          expect(ours['x-amz-date']).toBe(theirs.headers['x-amz-date']);
          expect(ours['x-amz-security-token']).toBe(theirs.headers['x-amz-security-token']);
        },
      ),
      { numRuns: 200 },
    );
  });
});
