// Splits a request-target into the path a router matches and the query string.
// RFC 9112 §3.2: origin-form "/p?q" (the usual), absolute-form "http://host/p?q" (proxies), "*" and authority-form.

/** Path and raw query (without "?") of a request-target; absolute-form is reduced to its path, other forms kept as-is. */
export function requestPathAndQuery(target: string): { path: string; query: string } {
  let pathStart = 0;
  if (target.charCodeAt(0) !== 0x2f) {
    // absolute-form: skip "scheme://authority"; a server must accept it (RFC 9112 §3.2.2).
    const schemeEnd = target.indexOf('://');
    if (schemeEnd === -1) return { path: target, query: '' };
    pathStart = target.indexOf('/', schemeEnd + 3);
    if (pathStart === -1) {
      const queryMark = target.indexOf('?', schemeEnd + 3);
      return { path: '/', query: queryMark === -1 ? '' : target.slice(queryMark + 1) };
    }
  }
  const queryMark = target.indexOf('?', pathStart);
  if (queryMark === -1) return { path: pathStart === 0 ? target : target.slice(pathStart), query: '' };
  return { path: target.slice(pathStart, queryMark), query: target.slice(queryMark + 1) };
}
