// Trying a prompt against the saved routes or the unsaved draft: the decision and the candidates.
import { api } from './api.js';
import { $, el } from './dom.js';
import { showProblems } from './problems.js';
import { currentRouter, isDirty, state } from './state.js';

export function renderResult(data) {
  const result = $('#result');
  const passed = data.route !== null;
  const max = Math.max(1e-9, ...data.candidates.map((c) => c.score), data.threshold ?? 0);
  result.replaceChildren(
    el(
      'div',
      { className: `decision ${passed ? 'good' : 'muted-box'}` },
      el('p', { className: 'big' }, passed ? data.route : 'no route passed'),
      el(
        'p',
        {},
        data.score === null
          ? 'no score'
          : `score ${data.score.toFixed(4)} ${data.score >= (data.threshold ?? 0) ? '≥' : '<'} threshold ${Number(data.threshold).toFixed(2)}`,
      ),
      el(
        'p',
        {},
        'served by ',
        el('strong', {}, data.model),
        data.deployment ? ` (deployment ${data.deployment})` : '',
      ),
      data.matched
        ? el(
            'p',
            { className: 'muted' },
            'matched “',
            data.matched.utterance,
            '”',
            data.matched.template ? ` from template “${data.matched.template}”` : '',
          )
        : null,
      el(
        'p',
        { className: 'muted' },
        `${data.draft ? 'unsaved edits' : 'saved routes'} · ${data.timing_ms.toFixed(1)} ms`,
      ),
    ),
    el(
      'ol',
      { className: 'bars', ariaLabel: 'Top candidates' },
      data.candidates.map((c) => {
        const bar = el('span', { className: `fill ${c.score >= c.threshold ? 'pass' : ''}` });
        bar.style.width = `${Math.max(0, (c.score / max) * 100).toFixed(1)}%`;
        const mark = el('span', { className: 'mark' });
        mark.style.left = `${Math.max(0, (c.threshold / max) * 100).toFixed(1)}%`;
        // A hybrid score's parts, each a cosine: what made the route score as it did.
        const parts = c.components
          ? el(
              'span',
              { className: 'parts muted' },
              `kNN ${c.components.knn.toFixed(2)} · centroid ${c.components.centroid.toFixed(2)} · words ${c.components.lexical.toFixed(2)}`,
            )
          : null;
        return el(
          'li',
          {},
          el('span', { className: 'label' }, c.route),
          el('span', { className: 'track' }, bar, mark),
          el('span', { className: 'num' }, c.score.toFixed(3)),
          parts,
        );
      }),
    ),
  );
}

export async function tryPrompt(event) {
  event.preventDefault();
  const router = currentRouter();
  if (!router) return;
  const prompt = $('#prompt').value.trim();
  if (prompt === '') return;
  const dirty = isDirty();
  $('#result').replaceChildren(el('p', { className: 'muted' }, 'Routing…'));
  const { ok, data } = await api('POST', '/ui/api/try', {
    model: router.model,
    prompt,
    ...(dirty ? { config: state.draft } : {}),
  });
  if (!ok) {
    if (data.errors) showProblems(data.errors);
    $('#result').replaceChildren(
      el(
        'p',
        { className: 'error' },
        data.errors ? 'Fix the problems in the routes first.' : (data.error?.message ?? 'Failed'),
      ),
    );
    return;
  }
  renderResult(data);
}
