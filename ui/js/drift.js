// Unrouted traffic: prompts no route took (or took by a thin margin), clustered from the decision
// log, each cluster with a proposal the editor can take in one click (then Save, as any edit).
import { api } from './api.js';
import { $, el } from './dom.js';
import { renderRoutes } from './editor.js';
import { currentRouter, markDirty, state } from './state.js';

function addUtterances(routeName, utterances) {
  if (!state.draft) return;
  let route = state.draft.routes.find((r) => r.name === routeName);
  if (route === undefined) {
    route = { name: routeName, utterances: [] };
    state.draft.routes.push(route);
  }
  for (const u of utterances) if (!route.utterances.includes(u)) route.utterances.push(u);
  markDirty();
  renderRoutes({ route: state.draft.routes.indexOf(route) });
}

export async function refreshDrift() {
  const router = currentRouter();
  const out = $('#drift-result');
  if (!router) return;
  out.replaceChildren(el('p', { className: 'muted' }, 'Reading the decision log…'));
  const { ok, data } = await api('GET', `/ui/api/drift?model=${encodeURIComponent(router.model)}`);
  if (!ok || !data.enabled) {
    out.replaceChildren(
      el('p', { className: 'muted' }, ok ? `Off: ${data.why}.` : (data.error?.message ?? 'Not available.')),
    );
    return;
  }
  if (data.clusters.length === 0) {
    out.replaceChildren(
      el(
        'p',
        { className: 'muted' },
        `${data.unrouted} unrouted and ${data.thin} thin decisions in the log, no cluster of 3 or more.`,
      ),
    );
    return;
  }
  out.replaceChildren(
    el(
      'p',
      {},
      `${data.unrouted} unrouted and ${data.thin} thin decisions; ${data.clusters.length} cluster(s):`,
    ),
    ...data.clusters.map((c) => {
      const p = c.proposal;
      const target = p.action === 'add_utterances' ? p.route : p.name;
      const button = el(
        'button',
        { type: 'button', disabled: !router.editable },
        p.action === 'add_utterances' ? `Add as utterances of ${target}` : `Add as new route ${target}`,
      );
      button.addEventListener('click', () => addUtterances(target, p.utterances));
      return el(
        'div',
        { className: 'drift-cluster' },
        el(
          'h3',
          {},
          `${c.size} prompts`,
          el('span', { className: 'muted' }, ` · ${c.why.unrouted} unrouted, ${c.why.thin} thin`),
        ),
        el(
          'ul',
          { className: 'drift-prompts' },
          c.prompts.slice(0, 5).map((x) => el('li', {}, x.text)),
        ),
        button,
      );
    }),
  );
}
