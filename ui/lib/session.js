// The signed-in key: kept in sessionStorage only (this tab, gone when it
// closes), sent as X-API-Key, never put in a URL, a log or the console.

const KEY = 'syncmgr.key';
const ROLE = 'syncmgr.role';

export function currentKey() {
  return sessionStorage.getItem(KEY);
}

// 'tenant' | 'admin' | null
export function currentRole() {
  return currentKey() ? sessionStorage.getItem(ROLE) : null;
}

// The non-secret name of a tenant key: "smk_" and 8 hex digits (docs/api.md,
// "API keys"), shown so people can tell keys apart. '' for any other key
// (the admin key is free-form: none of it is shown).
export function keyPrefix() {
  const m = /^smk_[0-9a-f]{8}/.exec(currentKey() || '');
  return m ? m[0] : '';
}

export function remember(key, role) {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(ROLE, role);
}

export function forget() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ROLE);
}
