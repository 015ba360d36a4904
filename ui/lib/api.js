// The dashboard's only way to the server: the public HTTP API (docs/api.md)
// with the signed-in key in X-API-Key. Nothing here talks to another host.
import {currentKey, forget} from './session.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Called when the server refuses the key (401): the page goes back to the
// sign-in form. Set by app.js.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function buildPath(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? path + '?' + s : path;
}

// An external_id (or any id) as one path segment.
export function seg(value) {
  return encodeURIComponent(String(value));
}

async function errorFrom(response) {
  let code = 'http_' + response.status;
  let message = response.statusText || 'request failed';
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (e) {
    // Not a JSON error body (a proxy's page): keep the status line.
  }
  return new ApiError(response.status, code, message);
}

// api('/sources', {query, method, body, signal, key}) → the parsed JSON answer.
// `key` overrides the signed-in key (sign-in checks a key before keeping it).
export async function api(path, opts = {}) {
  const key = opts.key !== undefined ? opts.key : currentKey();
  const headers = {'Accept': 'application/json'};
  if (key) headers['X-API-Key'] = key;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(buildPath(path, opts.query), {
      method: opts.method || 'GET', headers, body, signal: opts.signal,
      cache: 'no-store', credentials: 'omit', redirect: 'error',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the server did not answer (' + e.message + ')');
  }
  if (!response.ok) {
    const err = await errorFrom(response);
    if (response.status === 401 && opts.key === undefined) {
      forget();
      onUnauthorized(err);
    }
    throw err;
  }
  if (response.status === 204) return null;
  return response.json();
}

// Uploads a File as an import body with XMLHttpRequest (fetch reports no
// upload progress). onProgress(sentBytes, totalBytes). Resolves with the
// JSON answer; rejects with ApiError. Returns {promise, abort}.
export function upload(path, query, file, contentType, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', buildPath(path, query));
    xhr.setRequestHeader('X-API-Key', currentKey() || '');
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        // handled below
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        resolve(body);
        return;
      }
      const e = body && body.error ? body.error : {};
      const err = new ApiError(xhr.status, e.code || 'http_' + xhr.status,
        e.message || 'the upload failed');
      if (xhr.status === 401) {
        forget();
        onUnauthorized(err);
      }
      reject(err);
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, 'network', 'the connection broke during the upload')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'the upload was cancelled')));
    xhr.send(file);
  });
  return {promise, abort: () => xhr.abort()};
}

