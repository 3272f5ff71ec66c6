// The XiVO console: a client of the REST API 1.0 like any other. Every screen reads and
// writes through the API's own routes and shows the API's own messages; nothing else is
// fetched. The DOM is built with `h()`, never from HTML strings, so no value from the API
// can become markup.

const PAGE_SIZE = 20;

// ---------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, messages) {
    super(messages.length ? messages.join(' ') : `The server answered ${status}.`);
    this.status = status;
    this.messages = messages;
  }
}

/** One request; the parsed JSON answer, or an ApiError carrying the API's messages. */
async function api(method, path, body, bodyType = 'application/json') {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = bodyType;
    init.body = bodyType === 'application/json' ? JSON.stringify(body) : body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, [`The server could not be reached (${e.message}).`]);
  }
  const type = response.headers.get('content-type') || '';
  const data = type.startsWith('application/json') ? await response.json() : null;
  if (!response.ok) {
    const messages = Array.isArray(data) ? data.map(String) : [];
    throw new ApiError(response.status, messages.length ? messages : [statusText(response.status)]);
  }
  return data;
}

function statusText(status) {
  return {
    401: 'Not authenticated: reload the page to sign in.',
    404: 'Not found: it may have been deleted meanwhile.',
    406: 'The server cannot answer in JSON.',
    413: 'Too large.',
    415: 'The server wants JSON.',
  }[status] || `The server answered ${status}.`;
}

// ---------------------------------------------------------------------------------------
// The resources, as the API describes them

const text = (name, label) => ({ name, label, type: 'text' });
const bool = (name, label) => ({ name, label, type: 'bool' });
const int = (name, label) => ({ name, label, type: 'int' });
// A queue's yes/no settings are integers in the API (0 or 1), shown as check boxes.
const flag = (name, label) => ({ name, label, type: 'flag' });

const RESOURCES = {
  users: {
    title: 'Users',
    one: 'user',
    path: '/1.0/users/',
    paged: true,
    columns: ['id', 'firstname', 'lastname', 'line', 'voicemailid'],
    orderable: ['id', 'firstname', 'lastname'],
    fields: [
      text('firstname', 'First name'), text('lastname', 'Last name'),
      { name: 'line', label: 'Line number', type: 'line' },
      { name: 'voicemailid', label: 'Voicemail', type: 'ref', ref: 'voicemails' },
      { name: 'agentid', label: 'Agent', type: 'ref', ref: 'agents' },
      text('callerid', 'Caller id'), text('outcallerid', 'Outgoing caller id'),
      text('mobilephonenumber', 'Mobile phone'), text('username', 'Username'),
      text('password', 'Password'), text('musiconhold', 'Music on hold'),
      text('userfield', 'User field'), text('timezone', 'Time zone'),
      text('language', 'Language'), text('description', 'Description'),
      bool('enableclient', 'Client enabled'),
      int('ctiprofileid', 'CTI profile id'), int('entityid', 'Entity id'),
    ],
  },
  voicemails: {
    title: 'Voicemails',
    one: 'voicemail',
    path: '/1.0/voicemails/',
    paged: true,
    columns: ['id', 'mailbox', 'fullname', 'email'],
    orderable: ['id', 'mailbox', 'fullname', 'email'],
    fields: [
      text('mailbox', 'Mailbox'), text('fullname', 'Full name'),
      { name: 'email', label: 'Email', type: 'nullable' }, text('password', 'Password'),
      bool('attach', 'Attach the message'), bool('skipcheckpass', 'Skip the password'),
      bool('deleteaftersend', 'Delete after sending'),
    ],
  },
  agents: {
    title: 'Agents',
    one: 'agent',
    path: '/1.0/CallCenter/agents/',
    columns: ['id', 'number', 'firstname', 'lastname', 'context'],
    orderable: ['id', 'number', 'firstname', 'lastname', 'context'],
    fields: [
      text('number', 'Number'), text('firstname', 'First name'), text('lastname', 'Last name'),
      text('passwd', 'Password'), text('context', 'Context'), text('language', 'Language'),
      int('autologoff', 'Auto logoff'), { name: 'group', label: 'Group', type: 'nullable' },
      int('numgroup', 'Group number'),
      text('description', 'Description'), text('preprocess_subroutine', 'Preprocess subroutine'),
    ],
  },
  queues: {
    title: 'Queues',
    one: 'queue',
    path: '/1.0/CallCenter/queues/',
    columns: ['id', 'number', 'name', 'displayname', 'context'],
    orderable: ['id', 'number', 'name', 'displayname', 'context'],
    fields: [
      text('name', 'Name'), text('displayname', 'Display name'), text('number', 'Number'),
      text('context', 'Context'), flag('data_quality', 'Data quality'),
      flag('hitting_callee', 'Hitting callee'), flag('hitting_caller', 'Hitting caller'),
      int('retries', 'Retries'), int('ring', 'Ring'), flag('transfer_user', 'Transfer user'),
      flag('transfer_call', 'Transfer call'), flag('write_caller', 'Write caller'),
      flag('write_calling', 'Write calling'), text('url', 'URL'),
      text('announceoverride', 'Announce override'), int('timeout', 'Timeout'),
      text('preprocess_subroutine', 'Preprocess subroutine'),
      flag('announce_holdtime', 'Announce hold time'), int('waittime', 'Wait time'),
      { name: 'waitratio', label: 'Wait ratio', type: 'float' },
    ],
  },
  campaigns: {
    title: 'Recording campaigns',
    one: 'campaign',
    path: '/1.0/recording_campaigns/',
    paged: true,
    columns: ['id', 'campaign_name', 'queue_name', 'start_date', 'end_date', 'activated'],
    orderable: ['id', 'campaign_name', 'start_date', 'end_date'],
    fields: [
      text('campaign_name', 'Name'), bool('activated', 'Activated'),
      text('base_filename', 'Base file name'),
      { name: 'queue_id', label: 'Queue', type: 'ref', ref: 'queues' },
      { name: 'start_date', label: 'Start', type: 'text', hint: 'YYYY-MM-DD or YYYY-MM-DD HH:MM:SS' },
      { name: 'end_date', label: 'End', type: 'text', hint: 'YYYY-MM-DD or YYYY-MM-DD HH:MM:SS' },
    ],
  },
};

// The campaign validation codes (API.md), as a reader would say them, by the field they
// concern.
const CODES = {
  empty_name: ['campaign_name', 'The campaign needs a name.'],
  duplicated_name: ['campaign_name', 'Another campaign already has this name.'],
  start_greater_than_end: ['end_date', 'The end must not come before the start.'],
  concurrent_campaigns: ['start_date', 'Another campaign on this queue overlaps these dates.'],
  invalid_date_format: ['start_date', 'Write dates as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.'],
};

/** The field an API message concerns, and what to say next to it (or null for the form). */
function fieldMessages(messages) {
  const out = [];
  for (const m of messages) {
    if (CODES[m]) {
      out.push({ field: CODES[m][0], text: CODES[m][1] });
      continue;
    }
    const listed = /^(Incorrect parameters sent|Missing parameters): (.*)$/.exec(m);
    if (listed) {
      const what = listed[1] === 'Missing parameters' ? 'Required.' : 'Not accepted: check this value.';
      for (const name of listed[2].split(', ')) out.push({ field: name, text: what });
      continue;
    }
    out.push({ field: null, text: m });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// DOM helpers

/** An element: `h('a', {href: '#'}, 'text', child)`. Attributes starting with `on` are listeners. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById('main');

function render(...children) {
  main().replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Show the API's messages (or clear them); nothing fails silently. */
function alertMessages(messages, kind = 'error') {
  const box = document.getElementById('alert');
  if (!messages || !messages.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.className = kind;
  box.replaceChildren(...messages.map((m) => h('p', {}, m)));
  box.hidden = false;
}

function failed(e) {
  alertMessages(e instanceof ApiError ? e.messages : [String(e)]);
}

function show(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object' && 'number' in value) return value.number;
  return String(value);
}

// ---------------------------------------------------------------------------------------
// Lists

/** A column's heading: its field's label, else the key said plainly. */
function heading(r, column) {
  const field = r.fields.find((f) => f.name === column);
  if (field) return field.label;
  return { id: 'Id', queue_name: 'Queue' }[column] || column.replace(/_/g, ' ');
}

/**
 * A table of items, each row linking to its form. `sort` ({order, dir, by(column)}): the
 * headings of the columns the API orders by are buttons that order the list by them, and
 * again the other way.
 */
function table(key, items, extra, sort) {
  const r = RESOURCES[key];
  const th = (c) => {
    if (!sort || !(r.orderable || []).includes(c)) return h('th', { scope: 'col' }, heading(r, c));
    const current = sort.order === c;
    const ariaSort = current ? (sort.dir === 'desc' ? 'descending' : 'ascending') : 'none';
    const mark = current ? (sort.dir === 'desc' ? ' ▼' : ' ▲') : '';
    return h('th', { scope: 'col', 'aria-sort': ariaSort },
      h('button', { type: 'button', class: 'sort', id: `sort-${c}`, onclick: () => sort.by(c) }, heading(r, c) + mark));
  };
  const head = h('tr', {}, r.columns.map(th), extra ? h('th', { scope: 'col' }, '') : null);
  const rows = items.map((item) =>
    h('tr', {},
      r.columns.map((c, i) => h('td', {}, i === 0
        ? h('a', { href: `#/${key}/${item.id}` }, show(item[c]))
        : show(item[c]))),
      extra ? h('td', {}, extra(item)) : null));
  return h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows)));
}

function pager(page, pages, go) {
  return h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, 'Previous'),
    h('span', {}, `Page ${page} of ${Math.max(pages, 1)}`),
    h('button', { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next'));
}

async function listView(key, params) {
  const r = RESOURCES[key];
  const page = Math.max(1, Number(params.get('page')) || 1);
  const search = params.get('q') || '';
  const order = params.get('order') || '';
  const dir = params.get('dir') === 'desc' ? 'desc' : 'asc';
  const body = h('div', { class: 'list' }, h('p', {}, 'Loading…'));
  // The API searches (a substring, case and accents ignored) and orders; the console asks.
  const searchBox = h('input', {
    type: 'search', id: 'search', 'aria-label': `Search ${r.title.toLowerCase()}`, placeholder: 'Search',
    value: search,
    oninput: debounce((e) => {
      const next = new URLSearchParams(params);
      next.set('q', e.target.value);
      next.delete('page');
      navigate(`#/${key}?${next}`, true);
    }, 250),
  });
  const sortBy = (column) => {
    const next = new URLSearchParams(params);
    next.set('order', column);
    next.set('dir', order === column && dir === 'asc' ? 'desc' : 'asc');
    next.delete('page');
    navigate(`#/${key}?${next}`, true);
  };
  const mine = generation;
  const filters = key === 'campaigns' ? await campaignFilters(params) : null;
  if (stale(mine)) return;
  render(
    h('div', { class: 'bar' },
      h('h1', {}, r.title),
      searchBox,
      key === 'users' ? transfer() : null,
      h('a', { class: 'button', href: `#/${key}/new` }, `New ${r.one}`)),
    filters,
    body);
  // Typing re-draws the list: the search box keeps the focus (also once emptied).
  if (searchBox && params.has('q')) {
    searchBox.focus();
    searchBox.setSelectionRange(search.length, search.length);
  }
  let items;
  let total;
  try {
    const query = new URLSearchParams(key === 'campaigns' ? campaignQuery(params) : {});
    if (search) query.set('search', search);
    if (order) {
      query.set('order', order);
      query.set('direction', dir);
    }
    if (r.paged) {
      query.set('_page', page);
      query.set('_pagesize', PAGE_SIZE);
      ({ items, total } = await api('GET', `${r.path}?${query}`));
    } else {
      // Agents and queues come as a whole array (no total), searched and ordered all the same.
      const all = await api('GET', `${r.path}?${query}`);
      total = all.length;
      items = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    }
  } catch (e) {
    body.replaceChildren();
    return stale(mine) ? null : failed(e);
  }
  const extra = key === 'campaigns'
    ? (c) => h('span', {}, running(c) ? h('span', { class: 'badge' }, 'running') : null,
      h('a', { href: `#/campaigns/${c.id}/recordings` }, 'Recordings'))
    : null;
  const pages = Math.ceil(total / PAGE_SIZE);
  const go = (p) => {
    const next = new URLSearchParams(params);
    next.set('page', p);
    navigate(`#/${key}?${next}`);
  };
  body.replaceChildren(
    h('p', { class: 'count' }, `${total} ${total === 1 ? r.one : key}`),
    items.length ? table(key, items, extra, { order, dir, by: sortBy }) : h('p', {}, 'Nothing here.'),
    pager(page, pages, go));
}

/**
 * Users in and out as CSV: the export downloads every user; the import sends a file, all of
 * it or none (the API names each refused row).
 */
function transfer() {
  const file = h('input', {
    type: 'file', id: 'import-file', accept: '.csv,text/csv', class: 'visually-hidden',
    onchange: async (e) => {
      const chosen = e.target.files[0];
      if (!chosen) return;
      try {
        const ids = await api('POST', '/1.0/users/import', await chosen.text(), 'text/csv');
        await route();
        alertMessages([`Imported ${ids.length} user${ids.length === 1 ? '' : 's'}.`], 'ok');
      } catch (err) {
        failed(err);
      }
      e.target.value = '';
    },
  });
  return h('span', { class: 'transfer' },
    h('a', { class: 'button', id: 'export', href: '/1.0/users/export', download: 'users.csv' }, 'Export CSV'),
    h('label', { class: 'button', for: 'import-file' }, 'Import CSV'), file);
}

function running(campaign) {
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
  return campaign.start_date <= now && now <= campaign.end_date;
}

function campaignQuery(params) {
  const query = {};
  if (params.get('queue_id')) query.queue_id = params.get('queue_id');
  if (params.get('running') === 'true') query.running = 'true';
  return query;
}

async function campaignFilters(params) {
  let queues = [];
  try {
    queues = await api('GET', RESOURCES.queues.path);
  } catch (e) {
    failed(e);
  }
  const apply = () => {
    const next = new URLSearchParams();
    if (queue.value) next.set('queue_id', queue.value);
    if (runningBox.checked) next.set('running', 'true');
    navigate(`#/campaigns?${next}`);
  };
  const queue = h('select', { id: 'filter-queue', onchange: apply },
    h('option', { value: '' }, 'Any queue'),
    queues.map((q) => h('option', { value: q.id, selected: String(q.id) === params.get('queue_id') }, `${q.number} ${q.name}`)));
  const runningBox = h('input', { type: 'checkbox', id: 'filter-running', checked: params.get('running') === 'true', onchange: apply });
  return h('div', { class: 'filters' },
    h('label', { for: 'filter-queue' }, 'Queue'), queue,
    h('label', { class: 'check' }, runningBox, 'Running now'));
}

// ---------------------------------------------------------------------------------------
// Forms

async function options(ref) {
  const r = RESOURCES[ref];
  const data = await api('GET', r.path);
  const items = Array.isArray(data) ? data : data.items;
  const label = {
    voicemails: (v) => `${v.mailbox} ${v.fullname}`,
    agents: (a) => `${a.number} ${a.firstname} ${a.lastname}`,
    queues: (q) => `${q.number} ${q.name}`,
  }[ref];
  return items.map((i) => ({ value: i.id, label: label(i) }));
}

function input(field, value, choices) {
  const id = `field-${field.name}`;
  const described = `${id}-message`;
  let control;
  switch (field.type) {
    case 'bool':
    case 'flag':
      control = h('input', { type: 'checkbox', id, name: field.name, checked: Boolean(value) });
      break;
    case 'ref':
      control = h('select', { id, name: field.name },
        h('option', { value: '' }, '(none)'),
        choices.map((c) => h('option', { value: c.value, selected: c.value === value }, c.label)));
      break;
    default:
      control = h('input', {
        type: 'text', id, name: field.name, value: show(value),
        inputmode: ['int', 'float'].includes(field.type) ? 'decimal' : null,
        placeholder: field.hint || null,
      });
  }
  control.setAttribute('aria-describedby', described);
  const check = field.type === 'bool' || field.type === 'flag';
  return h('div', { class: `field ${check ? 'check' : ''}` },
    h('label', { for: id }, field.label), control,
    h('span', { class: 'message', id: described }));
}

function number(raw, valid) {
  const n = Number(raw);
  return valid(n) ? n : raw;
}

/** The value a control holds, as the API takes it. */
function read(field, form) {
  const el = form.elements[field.name];
  const raw = el.value.trim();
  switch (field.type) {
    case 'bool': return el.checked;
    case 'flag': return el.checked ? 1 : 0;
    // What is not a number goes as typed, for the API to refuse by name (never as null).
    case 'int': return raw === '' ? null : number(raw, Number.isInteger);
    case 'float': return raw === '' ? 0 : number(raw, Number.isFinite);
    case 'ref': return raw === '' ? null : Number(raw);
    case 'nullable': return raw === '' ? null : raw;
    case 'line': return raw === '' ? null : { number: raw };
    default: return el.value;
  }
}

async function formView(key, id) {
  const r = RESOURCES[key];
  let item = {};
  const choices = {};
  render(h('p', {}, 'Loading…'));
  const mine = generation;
  try {
    if (id) {
      const data = await api('GET', `${r.path}${id}`);
      item = key === 'campaigns' ? data.items[0] : data;
    }
    for (const f of r.fields.filter((f) => f.type === 'ref')) choices[f.name] = await options(f.ref);
  } catch (e) {
    return stale(mine) ? null : failed(e);
  }
  if (stale(mine)) return null;
  const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } },
    r.fields.map((f) => input(f, item[f.name], choices[f.name])),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, id ? 'Save' : 'Create'),
      id ? h('button', { type: 'button', class: 'danger', onclick: () => remove() }, 'Delete') : null,
      h('a', { class: 'button secondary', href: `#/${key}` }, 'Back')));
  const extra = h('div', { class: 'extra' });
  render(h('h1', {}, id ? `${r.one[0].toUpperCase()}${r.one.slice(1)} ${id}` : `New ${r.one}`), form, extra);
  form.querySelector('input, select').focus();

  function markErrors(messages) {
    form.querySelectorAll('.message').forEach((m) => { m.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((c) => c.removeAttribute('aria-invalid'));
    const general = [];
    for (const { field, text } of fieldMessages(messages)) {
      const message = field && form.querySelector(`#field-${CSS.escape(field)}-message`);
      if (message) {
        message.textContent = message.textContent ? `${message.textContent} ${text}` : text;
        form.elements[field].setAttribute('aria-invalid', 'true');
      } else {
        general.push(text);
      }
    }
    alertMessages(general.length ? general : ['Some values need attention: see the fields.']);
  }

  async function save() {
    const body = {};
    for (const f of r.fields) {
      const value = read(f, form);
      // A new item gets what was filled in; an existing one, only what changed.
      const unset = { bool: false, flag: 0, text: '' }[f.type] ?? null;
      const changed = id
        ? JSON.stringify(value) !== JSON.stringify(item[f.name] ?? unset)
        : JSON.stringify(value) !== JSON.stringify(unset);
      if (changed) {
        body[f.name] = value;
      }
    }
    if (key === 'campaigns' && !id) {
      for (const k of ['campaign_name', 'base_filename']) body[k] = body[k] ?? '';
      body.activated = read(r.fields[1], form);
    }
    try {
      const answer = await api(id ? 'PUT' : 'POST', id ? `${r.path}${id}` : r.path, body);
      const newId = id || (typeof answer === 'number' ? answer : answer.id);
      alertMessages([id ? `Saved ${r.one} ${newId}.` : `Created ${r.one} ${newId}.`], 'ok');
      navigate(`#/${key}/${newId}`, false, true);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) markErrors(e.messages);
      else failed(e);
    }
  }

  async function remove(query = '') {
    if (!query && !window.confirm(`Delete ${r.one} ${id}?`)) return;
    try {
      await api('DELETE', `${r.path}${id}${query}`);
      alertMessages([`Deleted ${r.one} ${id}.`], 'ok');
      navigate(`#/${key}`, false, true);
    } catch (e) {
      failed(e);
      if (key === 'users' && e.status === 412) {
        extra.replaceChildren(h('button', {
          type: 'button', class: 'danger', id: 'delete-with-voicemail',
          onclick: () => remove('?deleteVoicemail'),
        }, 'Delete the user with its voicemail'));
        extra.querySelector('button').focus();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Recordings of a campaign

async function recordingsView(campaignId, params) {
  const base = `/1.0/recording_campaigns/${campaignId}/`;
  const page = Math.max(1, Number(params.get('page')) || 1);
  const key = params.get('key') || '';
  const from = params.get('from') || '';
  const until = params.get('until') || '';
  const search = () => {
    const next = new URLSearchParams();
    for (const [name, el] of [['key', keyBox], ['from', fromBox], ['until', untilBox]]) {
      if (el.value.trim()) next.set(name, el.value.trim());
    }
    navigate(`#/campaigns/${campaignId}/recordings?${next}`);
  };
  const keyBox = h('input', { type: 'search', id: 'recording-key', value: key, placeholder: 'Caller or agent number' });
  const fromBox = h('input', { type: 'text', id: 'recording-from', value: from, placeholder: 'YYYY-MM-DD' });
  const untilBox = h('input', { type: 'text', id: 'recording-until', value: until, placeholder: 'YYYY-MM-DD' });
  const body = h('div', {}, h('p', {}, 'Loading…'));
  render(
    h('div', { class: 'bar' }, h('h1', {}, `Recordings of campaign ${campaignId}`),
      h('a', { class: 'button secondary', href: `#/campaigns/${campaignId}` }, 'The campaign')),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); search(); } },
      h('label', { for: 'recording-key' }, 'Caller or agent'), keyBox,
      h('label', { for: 'recording-from' }, 'From'), fromBox,
      h('label', { for: 'recording-until' }, 'Until'), untilBox,
      h('button', { type: 'submit' }, 'Search')),
    h('div', { id: 'player' }),
    body);
  const query = new URLSearchParams({ _page: page, _pagesize: PAGE_SIZE });
  if (key) query.set('key', key);
  if (from) query.set('from', from);
  if (until) query.set('until', until);
  let data;
  const mine = generation;
  try {
    data = await api('GET', `${base}${key ? 'search' : ''}?${query}`);
  } catch (e) {
    body.replaceChildren();
    return stale(mine) ? null : failed(e);
  }
  const rows = data.items.map((rec) => {
    const audio = `${base}${encodeURIComponent(rec.cid)}/audio`;
    return h('tr', {},
      ['cid', 'caller', 'agent_no', 'start_time', 'end_time'].map((c) => h('td', {}, show(rec[c]))),
      h('td', {}, rec.audio
        ? h('span', {},
          h('button', { type: 'button', class: 'play', onclick: () => play(audio, rec.cid) }, 'Play'),
          h('a', { href: audio, download: `${rec.cid}` }, 'Download'))
        : 'no audio'),
      h('td', {}, h('button', {
        type: 'button', class: 'danger', onclick: async () => {
          if (!window.confirm(`Delete recording ${rec.cid}?`)) return;
          try {
            await api('DELETE', `${base}${encodeURIComponent(rec.cid)}`);
            alertMessages([`Deleted recording ${rec.cid}.`], 'ok');
            route();
          } catch (e) {
            failed(e);
          }
        },
      }, 'Delete')));
  });
  const pages = Math.ceil(data.total / PAGE_SIZE);
  body.replaceChildren(
    h('p', { class: 'count' }, `${data.total} recording${data.total === 1 ? '' : 's'}`),
    rows.length
      ? h('div', { class: 'scroll' }, h('table', {},
        h('thead', {}, h('tr', {}, ['cid', 'caller', 'agent', 'start', 'end', 'audio', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows)))
      : h('p', {}, 'No recording matches.'),
    pager(page, pages, (p) => {
      const next = new URLSearchParams(params);
      next.set('page', p);
      navigate(`#/campaigns/${campaignId}/recordings?${next}`);
    }));
}

/** Play a recording's audio in the page; the browser seeks with Range requests. */
function play(url, cid) {
  const audio = h('audio', { controls: true, preload: 'auto', src: url, id: 'audio' });
  audio.addEventListener('error', () => alertMessages([`The audio of ${cid} cannot be played.`]));
  document.getElementById('player').replaceChildren(h('p', {}, `Recording ${cid}`), audio);
  audio.play().catch(() => { /* autoplay may be refused; the controls remain */ });
  audio.focus();
}

// ---------------------------------------------------------------------------------------
// Routing: #/users, #/users/new, #/users/7, #/campaigns/3/recordings?key=...

function debounce(f, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
}

// The route being shown: a screen whose data comes in after the user has moved on is not
// drawn over the newer one.
let generation = 0;
const stale = (mine) => mine !== generation;

// Whether the next route keeps the message on screen ("Created user 7." across the move to
// the user's own page).
let keepAlertOnce = false;

function navigate(hash, replace = false, keepAlert = false) {
  if (!keepAlert) alertMessages([]);
  if (replace) history.replaceState(null, '', hash);
  else if (location.hash !== hash) {
    keepAlertOnce = keepAlert;
    location.hash = hash;
    return;
  }
  route(keepAlert);
}

async function route(keepAlert = true) {
  generation += 1;
  if (!keepAlert) alertMessages([]);
  const [path, query] = (location.hash.slice(1) || '/users').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${parts[0]}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const [key, id, sub] = parts;
  if (!RESOURCES[key]) return navigate('#/users', true);
  if (key === 'campaigns' && id && sub === 'recordings') return recordingsView(id, params);
  if (id === 'new') return formView(key, null);
  if (id) return formView(key, id);
  return listView(key, params);
}

window.addEventListener('hashchange', async () => {
  // `#main` is the skip link's target, not a screen.
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  const keep = keepAlertOnce;
  keepAlertOnce = false;
  await route(keep);
  // A keyboard user goes on from the new screen, not from the top of the page.
  if (!main().contains(document.activeElement)) main().focus({ preventScroll: true });
});
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  main().focus();
});
route(true);
