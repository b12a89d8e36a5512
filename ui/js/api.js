// Calls to the route page's API; a lost session goes back to the sign-in page.

export async function api(method, url, body, headers = {}) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 401) {
    window.location.assign('/ui');
    throw new Error('signed out');
  }
  const data = response.status === 204 ? {} : await response.json();
  return { ok: response.ok, status: response.status, data };
}
