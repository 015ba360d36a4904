// Admin (the admin key): tenants, and each tenant's API keys — issue a new
// one (shown once), revoke one.
// API: GET /tenants, POST /tenants, GET /tenants/{id}/keys, POST
// /tenants/{id}/keys, DELETE /keys/{prefix}.
import {h, replace, routeQuery, section, table, loading, empty, errorBox, badge} from '../lib/dom.js';
import {api, seg} from '../lib/api.js';
import {time} from '../lib/format.js';
import {setTitle} from '../lib/nav.js';

// A new key, shown this once: a read-only field to copy from.
function newKeyBox(label, key) {
  const field = h('input', {type: 'text', readonly: true, class: 'input input-key', id: 'new-key', value: key,
    'aria-label': label, spellcheck: 'false', autocomplete: 'off'});
  const copy = h('button', {type: 'button', class: 'btn'}, 'Copy');
  copy.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(key);
      replace(copy, 'Copied');
    } catch (e) {
      replace(copy, 'Select and copy it');  // clipboard API refused (no secure context)
    }
  });
  const box = h('div', {class: 'state state-ok new-key', role: 'status', 'data-testid': 'new-key'},
    h('strong', null, label), h('p', null, 'Copy it now: it is shown this once and only its hash is kept.'),
    h('div', {class: 'inline-form'}, field, copy));
  setTimeout(() => field.select(), 0);
  return box;
}

async function keysSection(tenant, signal) {
  const box = h('div');
  const out = h('div', {'aria-live': 'polite'});
  const load = async () => {
    const keys = await api(`/tenants/${tenant.id}/keys`, {signal});
    replace(box, keys.length === 0 ? empty('This tenant has no keys.') :
      table([{label: 'Prefix'}, {label: 'State'}, {label: 'Since'}, {label: ''}],
        keys.map((k) => ({attrs: {'data-id': k.prefix}, cells: [h('code', null, k.prefix),
          k.revoked ? badge('revoked', 'error') : badge('active', 'ok'),
          time(k.revoked ? k.revoked_at : k.created_at),
          k.revoked ? '' : revokeControl(k)]})), {caption: 'Keys of ' + tenant.name}));
  };
  // Revoking asks once more in place (no browser dialog).
  const revokeControl = (k) => {
    const cell = h('span', {class: 'revoke'});
    const ask = h('button', {type: 'button', class: 'btn btn-small btn-danger-quiet'}, 'Revoke…');
    ask.setAttribute('aria-label', `Revoke key ${k.prefix}`);
    ask.addEventListener('click', () => {
      const yes = h('button', {type: 'button', class: 'btn btn-small btn-danger'}, 'Revoke ' + k.prefix);
      const no = h('button', {type: 'button', class: 'btn btn-small btn-quiet'}, 'Cancel');
      no.addEventListener('click', () => { replace(cell, ask); ask.focus(); });
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        try {
          await api(`/keys/${seg(k.prefix)}`, {method: 'DELETE', signal});
          replace(out, h('p', {class: 'state state-ok', role: 'status'}, `Key ${k.prefix} revoked: it is refused from now on.`));
          await load();
        } catch (e) {
          if (e.name !== 'AbortError') replace(out, errorBox(e, 'Revoking failed'));
          yes.disabled = false;
        }
      });
      replace(cell, h('span', {class: 'muted small'}, 'Clients using it stop working. '), yes, ' ', no);
      no.focus();
    });
    cell.appendChild(ask);
    return cell;
  };
  const issue = h('button', {type: 'button', class: 'btn btn-primary', id: 'issue-key'}, 'Issue a new key');
  issue.addEventListener('click', async () => {
    issue.disabled = true;
    try {
      const k = await api(`/tenants/${tenant.id}/keys`, {method: 'POST', body: {}, signal});
      replace(out, newKeyBox(`New key ${k.prefix} for ${tenant.name}`, k.api_key));
      await load();
    } catch (e) {
      if (e.name !== 'AbortError') replace(out, errorBox(e, 'Issuing a key failed'));
    } finally {
      issue.disabled = false;
    }
  });
  await load();
  return section('Keys of \u201c' + tenant.name + '\u201d',
    h('p', {class: 'muted small'}, 'Rotation: issue a new key, move the clients to it, revoke the old one.'),
    h('div', {class: 'actions'}, issue), out, box);
}

export async function render({main, query, signal}) {
  setTitle('Admin');
  const tenantsBox = h('div', null, loading('tenants'));
  const keysBox = h('div');
  const out = h('div', {'aria-live': 'polite'});
  const name = h('input', {type: 'text', id: 'tenant-name', name: 'name', class: 'input', required: true,
    maxlength: '256', autocomplete: 'off', placeholder: 'Acme Estates'});
  const create = h('form', {class: 'inline-form', method: 'post'},
    h('label', {for: 'tenant-name'}, 'New tenant'), name,
    h('button', {type: 'submit', class: 'btn btn-primary'}, 'Create tenant'));
  const selected = query.get('tenant') || '';

  const loadTenants = async () => {
    const tenants = await api('/tenants', {signal});
    replace(tenantsBox, tenants.length === 0 ? empty('No tenants yet: create the first one above.') :
      table([{label: 'Id', cls: 'num'}, {label: 'Name'}, {label: ''}],
        tenants.map((t) => ({attrs: {'data-id': t.id, class: String(t.id) === selected ? 'selected' : null},
          cells: [String(t.id), t.name, h('a', {href: routeQuery(['admin'], {tenant: t.id}),
            'aria-current': String(t.id) === selected ? 'true' : null}, 'Keys')]})), {caption: 'Tenants'}));
    return tenants;
  };
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const t = await api('/tenants', {method: 'POST', body: {name: name.value}, signal});
      name.value = '';
      replace(out, newKeyBox(`Tenant \u201c${t.name}\u201d (id ${t.id}) created. Its first key:`, t.api_key));
      await loadTenants();
    } catch (err) {
      if (err.name !== 'AbortError') replace(out, errorBox(err, 'Creating the tenant failed'));
    }
  });

  replace(main,
    h('div', {class: 'page-head'}, h('h1', {tabindex: '-1'}, 'Admin'),
      h('p', {class: 'muted'}, 'Tenants and their API keys. Keys are shown only when they are made; ' +
        'afterwards only their prefix.')),
    section('Tenants', create, out, tenantsBox),
    keysBox);
  const tenants = await loadTenants();
  const t = tenants.find((x) => String(x.id) === selected);
  if (selected && !t) replace(keysBox, errorBox(new Error('No tenant ' + selected + '.')));
  if (t) replace(keysBox, await keysSection(t, signal));
}
