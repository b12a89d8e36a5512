// Recent decisions and counts per route, refreshed every few seconds.
import { api } from './api.js';
import { $, el } from './dom.js';

export async function refreshDecisions() {
  const { data } = await api('GET', '/ui/api/decisions');
  const counts = Object.entries(data.counts).map(([router, byRoute]) => {
    const total = Object.values(byRoute).reduce((a, b) => a + b, 0);
    const saved = data.savedUsd?.[router];
    return el(
      'div',
      { className: 'count-block' },
      el(
        'h3',
        {},
        router,
        el('span', { className: 'muted' }, ` · ${total} request${total === 1 ? '' : 's'}`),
        saved === undefined ? null : el('span', { className: 'saved' }, ` · saved $${saved.toFixed(4)}`),
      ),
      el(
        'ol',
        { className: 'bars' },
        Object.entries(byRoute)
          .sort((a, b) => b[1] - a[1])
          .map(([route, n]) => {
            const bar = el('span', { className: 'fill' });
            bar.style.width = `${((n / total) * 100).toFixed(1)}%`;
            return el(
              'li',
              {},
              el('span', { className: 'label' }, route),
              el('span', { className: 'track' }, bar),
              el('span', { className: 'num' }, String(n)),
            );
          }),
      ),
    );
  });
  $('#counts').replaceChildren(
    ...(counts.length ? counts : [el('p', { className: 'muted' }, 'No requests routed yet.')]),
  );
  $('#recent tbody').replaceChildren(
    ...data.recent.map((d) =>
      el(
        'tr',
        {},
        el('td', {}, new Date(d.at).toLocaleTimeString()),
        el('td', {}, d.router),
        el(
          'td',
          {},
          d.kind === 'cost-quality' ? `${d.route ?? ''} → ${d.model ?? ''}` : (d.route ?? '(default)'),
          d.prompt ? el('div', { className: 'muted small' }, d.prompt) : null,
        ),
        el(
          'td',
          { className: 'num' },
          d.kind === 'cost-quality'
            ? d.difficulty === undefined
              ? `score ${d.score.toFixed(2)}`
              : `difficulty ${d.difficulty.toFixed(2)}`
            : `${d.score.toFixed(3)} / ${d.threshold.toFixed(2)}`,
        ),
        el(
          'td',
          { className: 'num' },
          d.savedUsd === undefined || d.savedUsd === null ? '' : `$${d.savedUsd.toFixed(5)}`,
        ),
      ),
    ),
  );
}
