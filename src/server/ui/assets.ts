/**
 * The route page's files (`ui/`: plain HTML, CSS and ES modules, no build step), read once at
 * start and served with a strict Content-Security-Policy; the login page for a browser without
 * a session.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../../internal/paths.js';

const UI_DIR = path.join(PACKAGE_ROOT, 'ui');

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

export function asset(name: string): string {
  return readFileSync(path.join(UI_DIR, name), 'utf8');
}

export interface PageAssets {
  html: string;
  css: string;
  /** The page's ES modules by file name (`ui/js/*.js`); nothing else is served from there. */
  modules: ReadonlyMap<string, string>;
}

export function loadPage(): PageAssets {
  const dir = path.join(UI_DIR, 'js');
  const modules = new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')] as const),
  );
  return { html: asset('index.html'), css: asset('app.css'), modules };
}

/** Sends one of the page's files with the page's security headers. */
export function sendAsset(reply: FastifyReply, type: string, body: string): FastifyReply {
  return reply
    .header('content-type', type)
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(body);
}

/**
 * Answers with the login page (a form, no script): for a browser without a session, 200 (the
 * page is what it asked for: no error in its console before anyone signs in); after a wrong
 * key, 401.
 */
export function sendLogin(reply: FastifyReply, message?: string, status = 200): FastifyReply {
  // `message` is always our own text, never the request's.
  const page = asset('login.html').replace(
    '<!--message-->',
    message === undefined ? '' : `<p class="error" role="alert">${message}</p>`,
  );
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', LOGIN_CSP)
    .send(page);
}
