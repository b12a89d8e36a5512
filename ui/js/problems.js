// Problems from the server shown beside the fields they name (by JSON path), and in a list.
import { $, el } from './dom.js';

export function clearProblems() {
  for (const node of document.querySelectorAll('[data-error-for]')) node.textContent = '';
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute('aria-invalid');
  $('#problems').replaceChildren();
}

export function showProblems(problems) {
  clearProblems();
  for (const problem of problems) {
    const path = problem.path ?? '';
    // The closest field that shows errors: the path itself, or its parents.
    let target;
    for (let p = path; p !== '' && target === undefined; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      target = document.querySelector(`[data-error-for="${CSS.escape(p)}"]`) ?? undefined;
      if (p === p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) break;
    }
    if (target) {
      target.textContent = target.textContent ? `${target.textContent} ${problem.message}` : problem.message;
      const field = document.getElementById(target.dataset.field ?? '');
      field?.setAttribute('aria-invalid', 'true');
    }
    $('#problems').append(el('li', {}, el('code', {}, path || '(file)'), ' ', problem.message));
  }
}
