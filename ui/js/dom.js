// DOM helpers for the route page. Every value from the server or the user is written with
// textContent or .value, never as HTML, so a route named <script> stays text.

export const $ = (selector) => document.querySelector(selector);

/** Creates an element: el('li', {className: 'x'}, child, 'text', …). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('aria') || key === 'for' || key === 'role')
      node.setAttribute(
        key === 'for' ? 'for' : key.replace(/^aria([A-Z])/, (_, c) => `aria-${c.toLowerCase()}`),
        value,
      );
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let uid = 0;

/** A fresh element id. */
export const nextId = () => `f${++uid}`;

/** An input bound to an optional key of `target`: empty deletes the key. */
export function optionalInput(target, key, props, onChange, parse = (v) => v, tag = 'input') {
  const input = el(tag, { ...props, value: target[key] ?? '' });
  input.addEventListener('input', () => {
    if (input.value === '') delete target[key];
    else target[key] = parse(input.value);
    onChange();
  });
  return input;
}

export const THRESHOLD = { type: 'number', step: '0.01', min: '0', max: '1' };

export function field(labelText, control, errorPath) {
  const id = control.id || nextId();
  control.id = id;
  return el(
    'div',
    { className: 'field' },
    el('label', { for: id }, labelText),
    control,
    el('p', { className: 'error', dataset: { errorFor: errorPath, field: id } }),
  );
}
