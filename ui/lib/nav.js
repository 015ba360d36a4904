// The hash route: "#/targets/3?after=x" → segments and query.

export function parseHash() {
  let hash = location.hash.replace(/^#/, '');
  if (!hash.startsWith('/')) hash = '/';
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  const segments = path.split('/').slice(1).filter((s, i, all) => s !== '' || i < all.length - 1);
  let decoded;
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch (e) {
    decoded = null;  // malformed escapes: no page matches
  }
  return {segments: decoded, query};
}

// Changes the query of the current page without a new history entry or a
// re-render: a page remembering its state in its URL (the diff's versions),
// so a reload or a bookmark shows the same thing.
export function replaceQuery(query) {
  const {segments} = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const path = '#/' + (segments || []).map(encodeURIComponent).join('/');
  window.history.replaceState(null, '', path + (q.toString() ? '?' + q : ''));
}

export function setTitle(...parts) {
  document.title = [...parts, 'Sync Manager'].filter(Boolean).join(' · ');
}
