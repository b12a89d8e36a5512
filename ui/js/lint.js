// Checking the routes (the checks of `semroute lint`) on the saved routes or the unsaved draft.
import { api } from './api.js';
import { $, el } from './dom.js';
import { showProblems } from './problems.js';
import { currentRouter, isDirty, state } from './state.js';

export async function lintRoutes() {
  const router = currentRouter();
  if (!router) return;
  const out = $('#lint-result');
  out.replaceChildren(el('p', { className: 'muted' }, 'Checking…'));
  const { ok, data } = await api('POST', '/ui/api/lint', {
    model: router.model,
    ...(isDirty() ? { config: state.draft } : {}),
  });
  if (!ok) {
    if (data.errors) showProblems(data.errors);
    out.replaceChildren(
      el('p', { className: 'error' }, data.error?.message ?? 'Fix the problems in the routes first.'),
    );
    return;
  }
  const findings = [...data.errors, ...data.warnings];
  out.replaceChildren(
    el(
      'p',
      {},
      `${data.routes} routes, ${data.utterances} utterances: ${data.errors.length} error(s), ${data.warnings.length} warning(s)`,
    ),
    findings.length === 0
      ? el('p', { className: 'muted' }, 'Nothing to report.')
      : el(
          'ul',
          { className: 'findings' },
          findings.map((f) => el('li', { className: f.severity, dataset: { code: f.code } }, f.message)),
        ),
  );
}
