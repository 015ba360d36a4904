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

// The non-secret name of a key: its first 12 characters (docs/api.md, "API
// keys"). Shown so people can tell keys apart; the rest never is.
export function keyPrefix() {
  const k = currentKey();
  return k ? k.slice(0, 12) : '';
}

export function remember(key, role) {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(ROLE, role);
}

export function forget() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ROLE);
}
