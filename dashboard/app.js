/* vmatlas dashboard: plain JavaScript over the JSON API (API.md), no framework, no build step.
 *
 * Everything the API returns is attacker-controlled text (comm, cmdline, paths, unit names):
 * it reaches the page only through textContent, createTextNode and setAttribute of fixed
 * attribute names; nothing is ever parsed as HTML, and the CSP forbids inline code anyway.
 *
 * Views (hash routing): #/processes, #/process/PID, #/hiwater, #/hugepages, #/fleet. Large
 * lists are virtualised (only the visible rows exist in the DOM); the address-space map is
 * drawn on a canvas from a columnar copy of the VMAs, read from the streamed /vmas document
 * object by object, so a 65,530-VMA process never exists as one parsed 40 MB tree.
 *
 * For tests: <body data-view=NAME data-ready=1> once a view has drawn its data; the map canvas
 * carries data-vmas-drawn=N and data-ready=1, and a performance mark "vmatlas:map-drawn". */
'use strict';

(function () {
  const TOKEN_KEY = 'vmatlas.token';
  const KINDS = ['heap', 'stack', 'vdso', 'vvar', 'vsyscall', 'anon', 'anon_shared',
    'file_private', 'file_shared', 'hugetlb', 'sysv_shm', 'memfd', 'socket', 'device', 'other'];
  const KIND_INDEX = Object.fromEntries(KINDS.map((k, i) => [k, i]));
  const KIND_COLOURS = ['#d64541', '#f0a030', '#9b59b6', '#c39bd3', '#6c3483', '#3b7dd8',
    '#5dade2', '#3f9a5a', '#a6c45a', '#b03a2e', '#17a589', '#e67e22', '#7f8c8d', '#34495e',
    '#a0a7ad'];
  const MARKERS = [
    ['start_code', 'code'], ['end_code', 'end code'], ['start_data', 'data'],
    ['brk', 'brk'], ['mmap_base', 'mmap base'], ['start_stack', 'stack']];
  const MAX_PROCESSES = 10000;
  const AUTO_VMAS_MAX = 5000; /* bigger VMA lists are re-read on request only */

  const view = document.getElementById('view');
  const banner = document.getElementById('banner');
  const statusEl = document.getElementById('status');
  const nodeEl = document.getElementById('node');
  const tooltip = document.getElementById('tooltip');

  /* --- DOM and formatting helpers ------------------------------------------------------ */

  /* el('div', {class: 'x', text: 'y', title: 't'}, child, 'text', ...): attribute names are
   * always literals of this file; values and children become text. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else if (k === 'on') for (const ev of Object.keys(v)) e.addEventListener(ev, v[ev]);
        else if (k === 'data') for (const d of Object.keys(v)) e.dataset[d] = String(v[d]);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  function bytes(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    let x = Math.abs(v);
    let i = 0;
    while (x >= 1024 && i < UNITS.length - 1) {
      x /= 1024;
      i++;
    }
    const s = i === 0 ? String(x) : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
    return (v < 0 ? '-' : '') + s + ' ' + UNITS[i];
  }
  const numFmt = new Intl.NumberFormat('en-US');
  function count(v) {
    return v === null || v === undefined || !Number.isFinite(v) ? '–' : numFmt.format(v);
  }
  function pct(v) {
    return v === null || v === undefined || !Number.isFinite(v) ? '–' : (v * 100).toFixed(1) + ' %';
  }
  function exactBytes(v) {
    return v === null || v === undefined ? 'unknown' : count(v) + ' bytes';
  }
  /* "2026-11-24T18:00:00.123Z" -> "2026-11-24 18:00:00Z" */
  function when(iso) {
    if (typeof iso !== 'string') return '–';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function ago(iso) {
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return '';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 90) return s + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 129600) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }
  /* "0x7ffd2c1e0000" -> "00007ffd2c1e0000": fixed width, so strings compare like numbers. */
  function normAddr(a) {
    if (typeof a !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(a)) return null;
    return a.slice(2).toLowerCase().padStart(16, '0');
  }
  function showAddr(n) {
    if (n === null || n === undefined) return '–';
    const t = n.replace(/^0+(?=.)/, '');
    return '0x' + t;
  }
  function validPid(p) {
    return Number.isInteger(p) && p > 0 && p < 2 ** 31;
  }
  function processLink(pid, text) {
    if (!validPid(pid)) return el('span', {text: text === undefined ? '–' : text});
    return el('a', {href: '#/process/' + pid, text: text === undefined ? String(pid) : text});
  }

  function card(k, v, title) {
    return el('div', {class: 'card', title: title},
      el('div', {class: 'k', text: k}), el('div', {class: 'v', text: v}));
  }

  function showBanner(msg) {
    if (!msg) {
      banner.hidden = true;
      banner.textContent = '';
      return;
    }
    banner.textContent = msg;
    banner.hidden = false;
  }

  function markReady(name) {
    if (current && current.name === name) {
      document.body.dataset.ready = '1';
      document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    }
  }

  /* --- the API client ------------------------------------------------------------------- */

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function authHeaders() {
    const h = {Accept: 'application/json'};
    const t = sessionStorage.getItem(TOKEN_KEY);
    if (t) h.Authorization = 'Bearer ' + t;
    return h;
  }

  async function request(path, signal) {
    let r;
    try {
      r = await fetch(path, {headers: authHeaders(), signal: signal, cache: 'no-cache',
        credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer'});
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new HttpError(0, 'cannot reach the daemon (' + (e && e.message) + ')');
    }
    if (!r.ok) {
      let msg = r.status + ' ' + r.statusText;
      try {
        const j = await r.json();
        if (j && j.error && typeof j.error.message === 'string') msg = j.error.message;
      } catch (_) {
        /* not JSON: keep the status line */
      }
      throw new HttpError(r.status, msg);
    }
    return r;
  }

  /* Parsed documents by path with their ETag: an unchanged document (304 to the browser's
   * revalidation, same ETag) is not parsed again. */
  const docCache = new Map();
  async function getJSON(path, signal) {
    const r = await request(path, signal);
    const etag = r.headers.get('ETag');
    const c = docCache.get(path);
    if (etag && c && c.etag === etag) {
      if (r.body) r.body.cancel().catch(() => {});
      return c.data;
    }
    const data = await r.json();
    if (etag) {
      docCache.delete(path);
      docCache.set(path, {etag: etag, data: data});
      while (docCache.size > 24) docCache.delete(docCache.keys().next().value);
    }
    return data;
  }

  /* --- the streamed VMA document -------------------------------------------------------- */

  /* Splits {"...": ..., "vmas": [ {...}, {...} ], ...} as it arrives: each object of the
   * "vmas" array goes to onObject as soon as it is complete; the rest of the document (with
   * an empty array) is parsed at the end. Strings are skipped with their escapes, so braces
   * inside names do not count. */
  class VmaScanner {
    constructor(onObject) {
      this.onObject = onObject;
      this.depth = 0;
      this.inStr = false;
      this.esc = false;
      this.arrayDepth = 0; /* depth inside the "vmas" array; 0: not in it */
      this.pending = '';   /* an object cut by a chunk boundary */
      this.rest = '';      /* everything outside the array */
    }

    feed(chunk) {
      const s = this.pending ? this.pending + chunk : chunk;
      let i = this.pending ? this.pending.length : 0;
      let objStart = this.pending ? 0 : -1;
      let restFrom = this.arrayDepth ? -1 : 0;
      this.pending = '';
      const n = s.length;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (this.inStr) {
          if (this.esc) this.esc = false;
          else if (c === 92) this.esc = true;
          else if (c === 34) this.inStr = false;
          continue;
        }
        if (c === 34) {
          this.inStr = true;
        } else if (c === 123 || c === 91) { /* { [ */
          this.depth++;
          if (this.arrayDepth && this.depth === this.arrayDepth + 1 && c === 123) {
            objStart = i;
          } else if (!this.arrayDepth && c === 91 && this.depth === 2 &&
                     /"vmas"\s*:\s*$/.test(this.rest + s.slice(restFrom, i))) {
            this.rest += s.slice(restFrom, i + 1);
            restFrom = -1;
            this.arrayDepth = 2;
          }
        } else if (c === 125 || c === 93) { /* } ] */
          if (this.arrayDepth && this.depth === this.arrayDepth + 1 && c === 125 && objStart >= 0) {
            this.onObject(JSON.parse(s.slice(objStart, i + 1)));
            objStart = -1;
          } else if (this.arrayDepth && this.depth === this.arrayDepth && c === 93) {
            this.arrayDepth = 0;
            restFrom = i;
          }
          this.depth--;
        }
      }
      if (objStart >= 0) this.pending = s.slice(objStart);
      else if (restFrom >= 0) this.rest += s.slice(restFrom);
    }

    end() {
      if (this.pending || this.arrayDepth || this.depth !== 0) throw new Error('the VMA document ended early');
      return JSON.parse(this.rest);
    }
  }

  /* The columns of a VMA list that the map, the list and the hover need; nothing else of the
   * document is kept. */
  class VmaColumns {
    constructor() {
      this.n = 0;
      this.start = []; this.end = [];       /* normalised hex (null when redacted) */
      this.startN = []; this.endN = [];     /* the same as doubles, for drawing */
      this.size = []; this.kind = []; this.perms = []; this.name = []; this.flags = [];
      this.offset = []; this.rss = []; this.pss = []; this.swap = []; this.anonHuge = [];
      this.present = []; this.swapped = []; this.thp = []; this.source = [];
    }
    push(v) {
      const num = (x) => (typeof x === 'number' ? x : NaN);
      const s = normAddr(v.start);
      const e = normAddr(v.end);
      this.start.push(s);
      this.end.push(e);
      this.startN.push(s === null ? NaN : parseInt(s, 16));
      this.endN.push(e === null ? NaN : parseInt(e, 16));
      this.size.push(num(v.size));
      const k = KIND_INDEX[v.kind];
      this.kind.push(k === undefined ? KIND_INDEX.other : k);
      this.perms.push(typeof v.perms === 'string' ? v.perms : '');
      this.name.push(typeof v.name === 'string' ? v.name : '');
      this.flags.push(Array.isArray(v.flags) ? v.flags.join(' ') : '');
      this.offset.push(num(v.offset));
      this.rss.push(num(v.rss));
      this.pss.push(num(v.pss));
      this.swap.push(num(v.swap));
      this.anonHuge.push(num(v.anon_huge));
      const r = v.residency || {};
      this.present.push(num(r.present));
      this.swapped.push(num(r.swapped));
      this.thp.push(num(r.thp));
      this.source.push(typeof r.source === 'string' ? r.source : '');
      this.n++;
    }
  }

  /* Read /vmas once, streaming. Returns null when the ETag says it did not change. */
  async function loadVmas(path, signal, prevEtag) {
    const r = await request(path, signal);
    performance.mark('vmatlas:vmas-response');
    const etag = r.headers.get('ETag');
    if (etag && prevEtag && etag === prevEtag) {
      if (r.body) r.body.cancel().catch(() => {});
      return null;
    }
    const cols = new VmaColumns();
    const scanner = new VmaScanner((v) => cols.push(v));
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      scanner.feed(value);
    }
    cols.header = scanner.end();
    cols.etag = etag;
    performance.mark('vmatlas:vmas-read');
    return cols;
  }

  /* --- the virtualised table ------------------------------------------------------------ */

  let vtSeq = 0;
  function cmp(a, b) {
    const an = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
    const bn = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
    if (an || bn) return an === bn ? 0 : an ? 2 : -2; /* missing values last either way */
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /* columns: [{key, label, get(row), fmt(value,row)?, render(cell,row)?, num?, width?,
   * cls?, title(row)?, sortable?}]. Only the rows in view (and a few more) exist; the body is
   * one tab stop whose arrow keys move the active row and whose Enter opens it. */
  class VTable {
    constructor(o) {
      this.cols = o.columns;
      this.rowH = o.rowHeight || 26;
      this.onOpen = o.onOpen || null;
      this.onActive = o.onActive || null;
      this.rowKey = o.rowKey || null;
      this.sortKey = o.sortKey || null;
      this.sortDir = o.sortDir || -1;
      this.filter = null;
      this.all = [];
      this.rows = [];
      this.active = 0;
      this.activeKey = undefined;
      this.pool = [];
      this.id = 'vt' + ++vtSeq;

      this.root = el('div', {class: 'vt'});
      this.root.style.setProperty('--cols', this.cols.map((c) => c.width || '1fr').join(' '));
      this.root.style.setProperty('--row-height', this.rowH + 'px');
      if (o.height) this.root.style.setProperty('--body-height', o.height);
      if (o.minWidth) this.root.style.setProperty('--min-width', o.minWidth);
      this.inner = el('div', {class: 'vt-inner', role: 'grid', 'aria-label': o.label,
        'aria-rowcount': 1});
      this.head = el('div', {class: 'vt-head', role: 'row', 'aria-rowindex': 1});
      for (const c of this.cols) {
        const cell = el('div', {role: 'columnheader', class: c.num ? 'num' : ''});
        if (c.sortable === false) {
          cell.append(el('span', {text: c.label}));
        } else {
          cell.append(el('button', {type: 'button', text: c.label,
            title: (c.help ? c.help + '. ' : '') + 'Sort by ' + c.label,
            on: {click: () => this.sortBy(c.key)}}));
        }
        c.headCell = cell;
        this.head.append(cell);
      }
      this.body = el('div', {class: 'vt-body', tabindex: 0, role: 'rowgroup',
        'aria-label': (o.label || 'rows') + ': arrow keys move, Enter opens'});
      this.spacer = el('div', {class: 'vt-spacer'});
      this.empty = el('div', {class: 'vt-empty', text: o.emptyText || 'Nothing to show.', hidden: true});
      this.body.append(this.spacer, this.empty);
      this.inner.append(this.head, this.body);
      this.root.append(this.inner);
      this.body.addEventListener('scroll', () => this.schedule(), {passive: true});
      this.body.addEventListener('keydown', (e) => this.key(e));
      this.body.addEventListener('click', (e) => {
        const r = e.target.closest('.vt-row');
        if (!r || e.target.closest('a')) return;
        const i = Number(r.dataset.index);
        this.setActive(i, false);
        if (this.onOpen) this.onOpen(this.rows[i], i);
      });
      this.resize = new ResizeObserver(() => this.schedule());
      this.resize.observe(this.body);
      this.showSort();
    }

    col(key) {
      return this.cols.find((c) => c.key === key);
    }

    setRows(rows) {
      this.all = rows;
      this.apply();
    }

    setFilter(fn) {
      this.filter = fn;
      this.apply();
    }

    sortBy(key) {
      if (this.sortKey === key) this.sortDir = -this.sortDir;
      else {
        this.sortKey = key;
        const c = this.col(key);
        this.sortDir = c && c.num ? -1 : 1;
      }
      this.showSort();
      this.apply();
    }

    showSort() {
      for (const c of this.cols) {
        if (c.key === this.sortKey) c.headCell.setAttribute('aria-sort', this.sortDir > 0 ? 'ascending' : 'descending');
        else c.headCell.removeAttribute('aria-sort');
      }
    }

    apply() {
      let rows = this.filter ? this.all.filter(this.filter) : this.all.slice();
      const c = this.sortKey ? this.col(this.sortKey) : null;
      if (c) {
        const dir = this.sortDir;
        const keyed = rows.map((r) => ({k: c.get(r), r: r}));
        keyed.sort((a, b) => {
          const x = cmp(a.k, b.k);
          return x === 2 || x === -2 ? x : x * dir;
        });
        rows = keyed.map((e) => e.r);
      }
      this.rows = rows;
      if (this.rowKey && this.activeKey !== undefined) {
        const i = rows.findIndex((r) => this.rowKey(r) === this.activeKey);
        this.active = i >= 0 ? i : Math.min(this.active, Math.max(0, rows.length - 1));
      } else if (this.active >= rows.length) {
        this.active = Math.max(0, rows.length - 1);
      }
      this.inner.setAttribute('aria-rowcount', String(rows.length + 1));
      this.spacer.style.height = rows.length * this.rowH + 'px';
      this.empty.hidden = rows.length > 0;
      this.render();
    }

    schedule() {
      if (this.pendingFrame) return;
      this.pendingFrame = requestAnimationFrame(() => {
        this.pendingFrame = 0;
        this.render();
      });
    }

    render() {
      const h = this.body.clientHeight || 600;
      const top = this.body.scrollTop;
      const first = Math.max(0, Math.floor(top / this.rowH) - 4);
      const last = Math.min(this.rows.length, Math.ceil((top + h) / this.rowH) + 4);
      const need = Math.max(0, last - first);
      while (this.pool.length < need) {
        const r = el('div', {class: 'vt-row', role: 'row'});
        for (const c of this.cols) r.append(el('div', {role: 'gridcell', class: c.num ? 'num' : c.cls || ''}));
        this.pool.push(r);
        this.spacer.append(r);
      }
      for (let k = 0; k < this.pool.length; k++) {
        const r = this.pool[k];
        if (k >= need) {
          r.hidden = true;
          continue;
        }
        const i = first + k;
        const row = this.rows[i];
        r.hidden = false;
        r.dataset.index = String(i);
        r.id = this.id + '-' + i;
        r.setAttribute('aria-rowindex', String(i + 2));
        r.style.transform = 'translateY(' + i * this.rowH + 'px)';
        r.classList.toggle('alt', i % 2 === 1);
        r.classList.toggle('active', i === this.active);
        for (let j = 0; j < this.cols.length; j++) {
          const c = this.cols[j];
          const cell = r.children[j];
          if (c.render) {
            c.render(cell, row);
            continue;
          }
          const v = c.get(row);
          const t = c.fmt ? c.fmt(v, row) : v === null || v === undefined ? '–' : String(v);
          if (cell.textContent !== t) cell.textContent = t;
          if (c.title) cell.title = c.title(row);
        }
      }
      if (this.rows.length) this.body.setAttribute('aria-activedescendant', this.id + '-' + this.active);
      else this.body.removeAttribute('aria-activedescendant');
    }

    key(e) {
      const n = this.rows.length;
      if (!n || e.altKey || e.ctrlKey || e.metaKey) return;
      const page = Math.max(1, Math.floor(this.body.clientHeight / this.rowH) - 1);
      let i = this.active;
      switch (e.key) {
      case 'ArrowDown': i++; break;
      case 'ArrowUp': i--; break;
      case 'PageDown': i += page; break;
      case 'PageUp': i -= page; break;
      case 'Home': i = 0; break;
      case 'End': i = n - 1; break;
      case 'Enter':
        e.preventDefault();
        if (this.onOpen) this.onOpen(this.rows[this.active], this.active);
        return;
      default:
        return;
      }
      e.preventDefault();
      this.setActive(Math.max(0, Math.min(n - 1, i)), true);
    }

    setActive(i, scroll) {
      if (i < 0 || i >= this.rows.length) return;
      this.active = i;
      if (this.rowKey) this.activeKey = this.rowKey(this.rows[i]);
      if (scroll) {
        const y = i * this.rowH;
        if (y < this.body.scrollTop) this.body.scrollTop = y;
        else if (y + this.rowH > this.body.scrollTop + this.body.clientHeight) {
          this.body.scrollTop = y + this.rowH - this.body.clientHeight;
        }
      }
      this.render();
      if (this.onActive) this.onActive(this.rows[i], i);
    }

    /* Make the row whose key is k active and scroll to it; false when it is filtered out. */
    reveal(pred) {
      const i = this.rows.findIndex(pred);
      if (i < 0) return false;
      this.body.scrollTop = Math.max(0, i * this.rowH - this.body.clientHeight / 2);
      this.setActive(i, true);
      return true;
    }

    destroy() {
      this.resize.disconnect();
      if (this.pendingFrame) cancelAnimationFrame(this.pendingFrame);
    }
  }

  /* --- tooltip -------------------------------------------------------------------------- */

  function showTooltip(x, y, title, pairs) {
    const dl = el('dl');
    for (const [k, v] of pairs) dl.append(el('dt', {text: k}), el('dd', {text: v}));
    tooltip.replaceChildren(el('div', {class: 't-name', text: title}), dl);
    tooltip.hidden = false;
    const w = tooltip.offsetWidth;
    const h = tooltip.offsetHeight;
    let left = x + 14;
    let top = y + 14;
    if (left + w > window.innerWidth - 8) left = Math.max(8, x - w - 14);
    if (top + h > window.innerHeight - 8) top = Math.max(8, y - h - 14);
    tooltip.style.left = left + 'px';
    tooltip.style.top = top + 'px';
  }
  function hideTooltip() {
    tooltip.hidden = true;
  }

  function vmaPairs(v, i) {
    const pairs = [
      ['range', v.start[i] === null ? '(addresses redacted)' : showAddr(v.start[i]) + ' – ' + showAddr(v.end[i])],
      ['size', bytes(v.size[i]) + ' (' + exactBytes(v.size[i]) + ')'],
      ['kind', KINDS[v.kind[i]]],
      ['perms', v.perms[i] || '–'],
      ['offset', Number.isFinite(v.offset[i]) ? '0x' + v.offset[i].toString(16) : '–'],
      ['rss', bytes(v.rss[i])],
      ['pss', bytes(v.pss[i])],
      ['swap', bytes(v.swap[i])],
      ['anon huge', bytes(v.anonHuge[i])],
      ['present', bytes(v.present[i]) + residencyShare(v.present[i], v.size[i])],
      ['swapped', bytes(v.swapped[i]) + residencyShare(v.swapped[i], v.size[i])],
      ['THP', bytes(v.thp[i]) + residencyShare(v.thp[i], v.size[i])],
      ['residency from', v.source[i] || 'not walked yet'],
      ['flags', v.flags[i] || '–'],
    ];
    return pairs;
  }
  function residencyShare(x, size) {
    return Number.isFinite(x) && size > 0 ? ' (' + pct(x / size) + ')' : '';
  }

  /* --- the address-space map ------------------------------------------------------------ */

  const MAP = {
    label: 118,   /* px of row labels (the address where the row starts) */
    row: 46,      /* px per row */
    mark: 13,     /* marker label band at the top of a row */
    band: 18,     /* the VMAs */
    strip: 6,     /* residency strip below them */
    maxRows: 60,
    maxUnitPx: 5,
  };

  /* The axis: each VMA is 1 + log2(pages) units wide and each gap 0.5 * (1 + log2(pages)),
   * so sizes stay ordered while a 4 KiB page and a 128 TiB hole both remain visible; the
   * track wraps into rows like text. */
  class AddressMap {
    constructor(onPick) {
      this.onPick = onPick;
      this.wrap = el('div', {class: 'map-wrap'});
      this.canvas = el('canvas', {class: 'base', tabindex: 0, id: 'vma-map', role: 'img',
        'aria-label': 'Address-space map. Arrow keys step through the VMAs.'});
      this.overlay = el('canvas', {class: 'overlay', 'aria-hidden': 'true'});
      this.wrap.append(this.canvas, this.overlay);
      this.v = null;
      this.selected = -1;
      this.canvas.addEventListener('mousemove', (e) => this.hover(e));
      this.canvas.addEventListener('mouseleave', () => {
        hideTooltip();
        this.highlight(this.selected);
      });
      this.canvas.addEventListener('click', (e) => {
        const hit = this.hit(e);
        if (hit && hit.vma >= 0) {
          this.select(hit.vma, false);
          if (this.onPick) this.onPick(hit.vma);
        }
      });
      this.canvas.addEventListener('keydown', (e) => this.key(e));
      this.canvas.addEventListener('blur', hideTooltip);
      this.lastWidth = 0;
      this.resize = new ResizeObserver(() => {
        const w = this.wrap.clientWidth;
        if (this.v && Math.abs(w - this.lastWidth) > 4) {
          if (!this.frame) this.frame = requestAnimationFrame(() => {
            this.frame = 0;
            this.draw();
          });
        }
      });
      this.resize.observe(this.wrap);
    }

    setData(v, layout) {
      this.v = v;
      this.layoutMarks = layout || null;
      this.selected = -1;
      this.draw();
    }

    /* Positions along the track, in px: x0[i], x1[i] for VMA i; the gap before i is
     * [x1[i-1], x0[i]). */
    measure(width) {
      const v = this.v;
      const n = v.n;
      const units = new Float64Array(n);
      const gaps = new Float64Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const pages = Math.max(1, (v.size[i] || 0) / 4096);
        units[i] = 1 + Math.log2(pages);
        if (i > 0) {
          const g = v.startN[i] - v.endN[i - 1];
          if (g > 0) gaps[i] = Math.max(1.5, 0.5 * (1 + Math.log2(Math.max(1, g / 4096))));
        }
        total += units[i] + gaps[i];
      }
      const W = Math.max(200, width - MAP.label - 8);
      const scale = Math.min(MAP.maxUnitPx, (W * MAP.maxRows) / Math.max(1, total));
      const x0 = new Float64Array(n);
      const x1 = new Float64Array(n);
      let p = 0;
      for (let i = 0; i < n; i++) {
        p += gaps[i] * scale;
        x0[i] = p;
        p += units[i] * scale;
        x1[i] = p;
      }
      this.W = W;
      this.x0 = x0;
      this.x1 = x1;
      this.rows = Math.max(1, Math.ceil(p / W - 1e-9));
    }

    /* Call f(x, y, w) for each row piece of the track span [p0, p1). */
    pieces(p0, p1, f) {
      const W = this.W;
      let guard = 0;
      while (p0 < p1 - 1e-9 && guard++ < 1000) {
        const r = Math.floor(p0 / W + 1e-9);
        const e = Math.min(p1, (r + 1) * W);
        f(MAP.label + p0 - r * W, r * MAP.row, e - p0);
        p0 = e;
      }
    }

    draw() {
      const v = this.v;
      const cssW = Math.max(400, this.wrap.clientWidth);
      this.lastWidth = this.wrap.clientWidth;
      this.measure(cssW);
      const cssH = this.rows * MAP.row + 4;
      const dpr = Math.min(2, window.devicePixelRatio || 1, 30000 / cssH);
      for (const c of [this.canvas, this.overlay]) {
        c.width = Math.round(cssW * dpr);
        c.height = Math.round(cssH * dpr);
        c.style.width = cssW + 'px';
        c.style.height = cssH + 'px';
      }
      this.dpr = dpr;
      const ctx = this.canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const dark = matchMedia('(prefers-color-scheme: dark)').matches;
      ctx.fillStyle = dark ? '#1e2125' : '#ffffff';
      ctx.fillRect(0, 0, cssW, cssH);

      const bandY = MAP.mark;
      const stripY = MAP.mark + MAP.band + 1;
      /* Row labels: the start of the first VMA that begins in the row. */
      ctx.font = '11px ' + getComputedStyle(document.body).getPropertyValue('--mono');
      ctx.fillStyle = dark ? '#9aa3ad' : '#5d6670';
      ctx.textBaseline = 'middle';
      let i = 0;
      for (let r = 0; r < this.rows; r++) {
        while (i < v.n && this.x1[i] <= r * this.W) i++;
        if (i < v.n) {
          const label = v.start[i] === null ? '#' + i : showAddr(v.start[i]);
          ctx.fillText(label, 4, r * MAP.row + bandY + MAP.band / 2, MAP.label - 8);
        }
      }
      /* Gaps: hatched, lower and thinner than the VMAs. */
      const hatch = this.hatch(ctx, dark);
      ctx.fillStyle = hatch;
      for (let k = 1; k < v.n; k++) {
        if (this.x0[k] > this.x1[k - 1]) {
          this.pieces(this.x1[k - 1], this.x0[k], (x, y, w) => ctx.fillRect(x, y + bandY + 4, w, MAP.band - 8));
        }
      }
      /* VMAs: one fill colour per kind; a hairline between neighbours wide enough for it. */
      let colour = -1;
      for (let k = 0; k < v.n; k++) {
        if (v.kind[k] !== colour) {
          colour = v.kind[k];
          ctx.fillStyle = KIND_COLOURS[colour];
        }
        const w = this.x1[k] - this.x0[k];
        const cut = w >= 4 ? 1 : 0;
        this.pieces(this.x0[k], this.x1[k] - cut, (x, y, pw) => ctx.fillRect(x, y + bandY, pw, MAP.band));
      }
      /* Residency strips: present (THP first, then small pages), swapped, the rest grey. */
      const colours = {absent: '#c9ced3', unknown: dark ? '#3a3f45' : '#eceef0', present: '#2f9e55', thp: '#7a4fbf', swapped: '#e0542e'};
      for (let k = 0; k < v.n; k++) {
        const p0 = this.x0[k];
        const w = this.x1[k] - p0;
        const size = v.size[k];
        const present = v.present[k];
        if (!Number.isFinite(present) || !(size > 0)) {
          ctx.fillStyle = colours.unknown;
          this.pieces(p0, p0 + w, (x, y, pw) => ctx.fillRect(x, y + stripY, pw, MAP.strip));
          continue;
        }
        ctx.fillStyle = colours.absent;
        this.pieces(p0, p0 + w, (x, y, pw) => ctx.fillRect(x, y + stripY, pw, MAP.strip));
        const thp = Number.isFinite(v.thp[k]) ? Math.min(v.thp[k], present) : 0;
        const swapped = Number.isFinite(v.swapped[k]) ? v.swapped[k] : 0;
        const fThp = (w * thp) / size;
        const fPresent = (w * present) / size;
        const fSwap = (w * swapped) / size;
        if (fThp > 0) {
          ctx.fillStyle = colours.thp;
          this.pieces(p0, p0 + fThp, (x, y, pw) => ctx.fillRect(x, y + stripY, pw, MAP.strip));
        }
        if (fPresent > fThp) {
          ctx.fillStyle = colours.present;
          this.pieces(p0 + fThp, p0 + fPresent, (x, y, pw) => ctx.fillRect(x, y + stripY, pw, MAP.strip));
        }
        if (fSwap > 0) {
          ctx.fillStyle = colours.swapped;
          this.pieces(p0 + fPresent, Math.min(p0 + w, p0 + fPresent + fSwap), (x, y, pw) => ctx.fillRect(x, y + stripY, pw, MAP.strip));
        }
      }
      this.drawMarkers(ctx, dark);

      this.canvas.dataset.vmasDrawn = String(v.n);
      this.canvas.dataset.rows = String(this.rows);
      this.canvas.dataset.ready = '1';
      this.highlight(this.selected);
    }

    hatch(ctx, dark) {
      const t = document.createElement('canvas');
      t.width = 6;
      t.height = 6;
      const c = t.getContext('2d');
      c.strokeStyle = dark ? '#59606a' : '#b8bec5';
      c.lineWidth = 1.2;
      c.beginPath();
      c.moveTo(0, 6);
      c.lineTo(6, 0);
      c.stroke();
      return ctx.createPattern(t, 'repeat');
    }

    /* The track position of an address (normalised hex): inside its VMA, or inside the gap. */
    position(addr) {
      const v = this.v;
      if (addr === null || v.n === 0 || v.start[0] === null) return null;
      let lo = 0;
      let hi = v.n - 1;
      if (addr < v.start[0]) return null;
      while (lo < hi) { /* last VMA whose start <= addr */
        const mid = (lo + hi + 1) >> 1;
        if (v.start[mid] <= addr) lo = mid;
        else hi = mid - 1;
      }
      const a = BigInt('0x' + addr);
      const s = BigInt('0x' + v.start[lo]);
      const e = BigInt('0x' + v.end[lo]);
      if (a <= e) { /* the end itself (brk is the end of [heap]) belongs to the VMA */
        const f = Number(a - s) / Math.max(1, Number(e - s));
        return {p: this.x0[lo] + f * (this.x1[lo] - this.x0[lo]), vma: lo, atEnd: a === e};
      }
      if (lo + 1 < v.n) {
        const next = BigInt('0x' + v.start[lo + 1]);
        const f = Number(a - e) / Math.max(1, Number(next - e));
        return {p: this.x1[lo] + f * (this.x0[lo + 1] - this.x1[lo]), vma: -1, after: lo};
      }
      return {p: this.x1[lo], vma: -1, after: lo};
    }

    markerPositions() {
      const out = [];
      const l = this.layoutMarks;
      if (!l) return out;
      for (const [key, label] of MARKERS) {
        const a = normAddr(l[key]);
        if (a === null) continue;
        const pos = this.position(a);
        out.push({key: key, label: label, addr: a, pos: pos});
      }
      return out;
    }

    drawMarkers(ctx, dark) {
      const lastEnd = new Map();
      ctx.font = '10px ' + getComputedStyle(document.body).getPropertyValue('--sans');
      ctx.textBaseline = 'top';
      for (const m of this.markerPositions()) {
        if (!m.pos) continue;
        this.pieces(m.pos.p, m.pos.p + 0.001, (x, y) => {
          ctx.fillStyle = dark ? '#f2f2f2' : '#111111';
          ctx.fillRect(Math.round(x) - 1, y + 2, 2, MAP.mark + MAP.band + MAP.strip - 1);
          const row = y / MAP.row;
          const tw = ctx.measureText(m.label).width;
          let tx = Math.round(x) + 3;
          const prev = lastEnd.get(row) || 0;
          if (tx < prev + 4) tx = prev + 4;
          if (tx + tw < MAP.label + this.W + 6) {
            ctx.fillText(m.label, tx, y + 1);
            lastEnd.set(row, tx + tw);
          }
        });
      }
    }

    hit(e) {
      if (!this.v) return null;
      const rect = this.canvas.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const y = e.clientY - rect.top;
      const r = Math.floor(y / MAP.row);
      if (x < MAP.label || r < 0 || r >= this.rows) return null;
      const p = r * this.W + (x - MAP.label);
      const x0 = this.x0;
      let lo = 0;
      let hi = this.v.n - 1;
      if (hi < 0 || p < x0[0]) return null;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (x0[mid] <= p) lo = mid;
        else hi = mid - 1;
      }
      if (p < this.x1[lo]) return {vma: lo, x: e.clientX, y: e.clientY};
      if (lo + 1 < this.v.n) return {vma: -1, gapAfter: lo, x: e.clientX, y: e.clientY};
      return null;
    }

    hover(e) {
      const h = this.hit(e);
      if (!h) {
        hideTooltip();
        this.highlight(this.selected);
        return;
      }
      const v = this.v;
      if (h.vma >= 0) {
        this.highlight(h.vma);
        showTooltip(h.x, h.y, v.name[h.vma] || '[anonymous]', vmaPairs(v, h.vma));
      } else {
        const a = h.gapAfter;
        this.highlight(this.selected);
        const gap = v.startN[a + 1] - v.endN[a];
        showTooltip(h.x, h.y, 'unmapped gap', [
          ['from', showAddr(v.end[a])],
          ['to', showAddr(v.start[a + 1])],
          ['size', bytes(gap)],
        ]);
      }
    }

    /* The outline of VMA i on the overlay canvas (-1: none). */
    highlight(i) {
      const ctx = this.overlay.getContext('2d');
      ctx.setTransform(this.dpr || 1, 0, 0, this.dpr || 1, 0, 0);
      ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
      if (!this.v || i < 0 || i >= this.v.n) return;
      ctx.strokeStyle = '#e8a317';
      ctx.lineWidth = 2;
      this.pieces(this.x0[i], Math.max(this.x1[i], this.x0[i] + 1), (x, y, w) => {
        ctx.strokeRect(x - 1, y + MAP.mark - 2, w + 2, MAP.band + MAP.strip + 5);
      });
    }

    /* Select VMA i: outline it, scroll it into view; with the keyboard, show its figures. */
    select(i, fromKeyboard) {
      if (!this.v || i < 0 || i >= this.v.n) return;
      this.selected = i;
      this.highlight(i);
      const r = Math.floor(this.x0[i] / this.W + 1e-9);
      const y = r * MAP.row;
      if (y < this.wrap.scrollTop || y + MAP.row > this.wrap.scrollTop + this.wrap.clientHeight) {
        this.wrap.scrollTop = Math.max(0, y - this.wrap.clientHeight / 2);
      }
      if (fromKeyboard) {
        const rect = this.canvas.getBoundingClientRect();
        const x = rect.left + MAP.label + this.x0[i] - r * this.W;
        showTooltip(x, rect.top + y + MAP.mark + MAP.band, this.v.name[i] || '[anonymous]', vmaPairs(this.v, i));
      }
    }

    key(e) {
      if (!this.v || !this.v.n) return;
      let i = this.selected;
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') i = Math.min(this.v.n - 1, i + 1);
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') i = Math.max(0, i - 1);
      else if (e.key === 'Home') i = 0;
      else if (e.key === 'End') i = this.v.n - 1;
      else if (e.key === 'Escape') {
        hideTooltip();
        return;
      } else return;
      e.preventDefault();
      this.select(i, true);
      if (this.onPick) this.onPick(i);
    }

    destroy() {
      this.resize.disconnect();
      if (this.frame) cancelAnimationFrame(this.frame);
    }
  }

  /* --- views ---------------------------------------------------------------------------- */

  function sizeCol(key, label, get, help) {
    return {key: key, label: label, num: true, get: get, fmt: bytes, width: 'minmax(5.2em, 1fr)', help: help};
  }
  function num(x) {
    return typeof x === 'number' ? x : null;
  }

  function viewProcesses(ctx) {
    const q = ctx.query;
    const filt = {comm: q.get('comm') || '', user: q.get('user') || '', unit: q.get('unit') || ''};
    let kthreads = q.get('kthreads') === 'include';
    const countEl = el('span', {class: 'count', role: 'status'});
    const toolbar = el('div', {class: 'toolbar'});
    for (const k of ['comm', 'user', 'unit']) {
      const input = el('input', {type: 'search', id: 'filter-' + k, placeholder: 'any',
        autocomplete: 'off', spellcheck: 'false', size: 14});
      input.value = filt[k];
      input.addEventListener('input', () => {
        filt[k] = input.value;
        applyFilter();
      });
      toolbar.append(el('label', null, k + ' ', input));
    }
    const kt = el('input', {type: 'checkbox', id: 'kthreads'});
    kt.checked = kthreads;
    kt.addEventListener('change', () => {
      kthreads = kt.checked;
      writeHash();
      reload().catch(fail);
    });
    toolbar.append(el('label', null, kt, ' kernel threads'), countEl);

    const table = new VTable({
      label: 'Processes',
      height: 'calc(100vh - 190px)',
      minWidth: '1180px',
      sortKey: 'rss',
      sortDir: -1,
      rowKey: (p) => p.id,
      emptyText: 'No process matches.',
      onOpen: (p) => {
        if (p && validPid(p.pid)) location.hash = '#/process/' + p.pid;
      },
      columns: [
        {key: 'pid', label: 'PID', num: true, get: (p) => p.pid, width: '5.5em'},
        {key: 'comm', label: 'Command', get: (p) => p.comm, width: 'minmax(9em, 2fr)', cls: 'mono comm',
          title: (p) => p.cmdline || p.comm || ''},
        {key: 'user', label: 'User', get: (p) => p.user ?? (p.uid === null || p.uid === undefined ? null : String(p.uid)), width: 'minmax(5em, 1fr)'},
        {key: 'unit', label: 'Unit', get: (p) => p.unit, width: 'minmax(7em, 1.6fr)', title: (p) => p.unit || ''},
        sizeCol('rss', 'RSS', (p) => num(p.memory && p.memory.vm_rss), 'Resident set (VmRSS)'),
        sizeCol('pss', 'PSS', (p) => num(p.rollup && p.rollup.pss), 'Proportional set (smaps_rollup)'),
        sizeCol('uss', 'USS', (p) => num(p.rollup && p.rollup.uss), 'Unique set: private clean + dirty'),
        sizeCol('swap', 'Swap', (p) => num(p.memory && p.memory.vm_swap)),
        sizeCol('vm_hwm', 'Peak RSS', (p) => num(p.memory && p.memory.vm_hwm), 'VmHWM'),
        sizeCol('vm_size', 'Virtual', (p) => num(p.memory && p.memory.vm_size), 'VmSize'),
        sizeCol('vm_peak', 'Peak virt.', (p) => num(p.memory && p.memory.vm_peak), 'VmPeak'),
        sizeCol('hugetlb', 'HugeTLB', (p) => num(p.memory && p.memory.hugetlb)),
        sizeCol('anon_huge', 'THP', (p) => num(p.rollup && p.rollup.anon_huge), 'AnonHugePages'),
        {key: 'vmas', label: 'VMAs', num: true, get: (p) => num(p.vma_count), fmt: count, width: '5.2em'},
        {key: 'threads', label: 'Thr.', num: true, get: (p) => num(p.threads), fmt: count, width: '4em', help: 'Threads'},
      ],
    });
    let total = 0;
    const note = el('p', {class: 'note'});
    view.replaceChildren(el('h1', {text: 'Processes'}), toolbar, table.root, note);

    function writeHash() {
      const p = new URLSearchParams();
      for (const k of ['comm', 'user', 'unit']) if (filt[k]) p.set(k, filt[k]);
      if (kthreads) p.set('kthreads', 'include');
      const s = p.toString();
      history.replaceState(null, '', '#/processes' + (s ? '?' + s : ''));
    }
    function applyFilter() {
      const c = filt.comm.toLowerCase();
      const u = filt.user.toLowerCase();
      const n = filt.unit.toLowerCase();
      table.setFilter(c || u || n ? (p) =>
        (!c || String(p.comm || '').toLowerCase().includes(c)) &&
        (!u || String(p.user ?? p.uid ?? '').toLowerCase().includes(u)) &&
        (!n || String(p.unit || '').toLowerCase().includes(n)) : null);
      writeHash();
      showCount();
    }
    function showCount() {
      let t = count(table.rows.length) + ' of ' + count(total) + ' processes';
      if (total > table.all.length) t += ' (the ' + count(table.all.length) + ' largest by RSS are listed)';
      countEl.textContent = t;
    }
    async function reload() {
      const doc = await getJSON('/api/v1/processes?limit=' + MAX_PROCESSES + '&kthreads=' +
        (kthreads ? 'include' : 'exclude'), ctx.signal);
      total = typeof doc.total === 'number' ? doc.total : 0;
      const procs = Array.isArray(doc.processes) ? doc.processes : [];
      if (procs !== table.all) table.setRows(procs);
      showCount();
      note.textContent = 'Snapshot #' + (doc.snapshot && doc.snapshot.seq) + ', collected ' +
        when(doc.snapshot && doc.snapshot.collected_at) + '. Enter or a click opens a process.';
      markReady('processes');
    }
    applyFilter();
    return {refresh: reload, destroy: () => table.destroy()};
  }

  function viewProcess(ctx) {
    const pid = Number(ctx.arg);
    if (!validPid(pid)) {
      view.replaceChildren(el('h1', {text: 'No such process'}), el('p', {text: 'A pid is a positive integer.'}));
      return {refresh: async () => markReady('process')};
    }
    const base = '/api/v1/processes/' + pid;
    const title = el('h1', {text: 'Process ' + pid});
    const cmdline = el('p', {class: 'cmdline'});
    const facts = el('div', {class: 'facts'});
    const errors = el('div', {class: 'errors'});
    const cards = el('div', {class: 'cards'});
    const kindLegend = el('div', {class: 'legend', 'aria-label': 'VMA kinds'});
    const mapNote = el('p', {class: 'note', text: 'Reading the VMAs…'});
    const markers = el('table', {class: 'markers'});
    const panels = el('div', {class: 'cols'});
    const vmaCount = el('span', {class: 'count'});
    const vmaFilter = el('input', {type: 'search', id: 'vma-filter', placeholder: 'name or kind',
      autocomplete: 'off', spellcheck: 'false', size: 24});
    const reloadBtn = el('button', {type: 'button', text: 'Re-read VMAs'});
    let v = null;
    let detail = null;
    let loading = null;
    const map = new AddressMap((i) => list.reveal((r) => r === i));
    const list = new VTable({
      label: 'VMAs',
      height: '420px',
      minWidth: '1120px',
      rowHeight: 24,
      rowKey: (i) => i,
      emptyText: 'No VMA matches.',
      onOpen: (i) => map.select(i, false),
      onActive: (i) => map.select(i, false),
      columns: [
        {key: 'start', label: 'Start', get: (i) => v.start[i], fmt: showAddr, cls: 'mono', width: '9.5em'},
        {key: 'end', label: 'End', get: (i) => v.end[i], fmt: showAddr, cls: 'mono', width: '9.5em'},
        {key: 'size', label: 'Size', num: true, get: (i) => v.size[i], fmt: bytes, width: '6em'},
        {key: 'perms', label: 'Perms', get: (i) => v.perms[i], cls: 'mono', width: '3.6em'},
        {key: 'kind', label: 'Kind', get: (i) => KINDS[v.kind[i]], width: '7.5em',
          render: (cell, i) => {
            const k = KINDS[v.kind[i]];
            if (cell.textContent !== k) cell.textContent = k;
            cell.style.borderLeft = '4px solid ' + KIND_COLOURS[v.kind[i]];
            cell.style.paddingLeft = '4px';
          }},
        {key: 'rss', label: 'RSS', num: true, get: (i) => v.rss[i], fmt: bytes, width: '5.6em'},
        {key: 'pss', label: 'PSS', num: true, get: (i) => v.pss[i], fmt: bytes, width: '5.6em'},
        {key: 'swap', label: 'Swap', num: true, get: (i) => v.swap[i], fmt: bytes, width: '5.6em'},
        {key: 'present', label: 'Resident', get: (i) => v.size[i] > 0 ? v.present[i] / v.size[i] : NaN, width: '8em',
          help: 'Present (THP in purple), swapped, and absent shares from the page walk',
          render: (cell, i) => residencyCell(cell, v, i)},
        {key: 'name', label: 'Name', get: (i) => v.name[i], cls: 'mono', width: 'minmax(12em, 3fr)',
          title: (i) => v.name[i]},
      ],
    });
    vmaFilter.addEventListener('input', () => applyVmaFilter());
    reloadBtn.addEventListener('click', () => {
      readVmas(true).catch(fail);
    });

    view.replaceChildren(
      el('p', {class: 'note'}, el('a', {href: '#/processes', text: '← Processes'})),
      title, cmdline, facts, errors, cards,
      el('h2', {text: 'Address space'}),
      kindLegend,
      el('div', {class: 'legend'},
        el('span', null, el('span', {class: 'sw gap'}), 'unmapped gap'),
        el('span', null, el('span', {class: 'sw marker'}), 'layout marker'),
        el('span', null, el('span', {class: 'sw present'}), 'present'),
        el('span', null, el('span', {class: 'sw thp'}), 'present as THP'),
        el('span', null, el('span', {class: 'sw swapped'}), 'swapped'),
        el('span', null, el('span', {class: 'sw absent'}), 'not resident')),
      map.wrap, mapNote, markers,
      panels,
      el('h2', {text: 'VMAs'}),
      el('div', {class: 'toolbar'}, el('label', null, 'filter ', vmaFilter), reloadBtn, vmaCount),
      list.root);

    function applyVmaFilter() {
      const f = vmaFilter.value.trim().toLowerCase();
      if (!v) return;
      const kind = KIND_INDEX[f];
      list.setFilter(f ? (i) => v.kind[i] === kind || v.name[i].toLowerCase().includes(f) : null);
      vmaCount.textContent = count(list.rows.length) + ' of ' + count(v.n) + ' VMAs';
    }

    function showDetail(p) {
      const name = typeof p.comm === 'string' ? p.comm : '?';
      title.textContent = name + ' (' + pid + ')';
      document.title = 'vmatlas · ' + name + ' (' + pid + ')';
      cmdline.textContent = p.cmdline || '';
      const fact = (k, val) => el('span', null, k + ' ', el('strong', {text: val === null || val === undefined || val === '' ? '–' : String(val)}));
      facts.replaceChildren(
        fact('user', p.user ?? p.uid), fact('unit', p.unit), fact('cgroup', p.cgroup),
        fact('state', p.state), fact('threads', p.threads),
        el('span', null, 'parent ', validPid(p.ppid) ? processLink(p.ppid) : el('strong', {text: String(p.ppid ?? '–')})),
        fact('started', when(p.start_time)), fact('id', p.id));
      const errs = Array.isArray(p.errors) ? p.errors : [];
      errors.replaceChildren(...(errs.length ? [el('span', {text: 'Could not read: ' +
        errs.map((e) => String(e.source) + ' (' + String(e.errno) + ')').join(', ')})] : []));
      const m = p.memory || {};
      const r = p.rollup || {};
      const l = p.layout || {};
      const hw = p.hiwater || {};
      cards.replaceChildren(
        card('RSS', bytes(m.vm_rss), exactBytes(m.vm_rss)),
        card('PSS', bytes(r.pss), exactBytes(r.pss)),
        card('USS', bytes(r.uss), exactBytes(r.uss)),
        card('Swap', bytes(m.vm_swap), exactBytes(m.vm_swap)),
        card('Peak RSS (VmHWM)', bytes(m.vm_hwm), exactBytes(m.vm_hwm)),
        card('Largest RSS seen', bytes(hw.observed_rss_max), when(hw.observed_rss_max_at)),
        card('Virtual', bytes(m.vm_size), exactBytes(m.vm_size)),
        card('VMAs', count(p.vma_count)),
        card('Gaps', count(l.gap_count), 'largest ' + bytes(l.largest_gap)),
        card('Largest gap', bytes(l.largest_gap), exactBytes(l.largest_gap)));
      const kinds = p.kinds || {};
      kindLegend.replaceChildren(...KINDS.filter((k) => kinds[k]).map((k) => {
        const e = kinds[k];
        const b = el('button', {type: 'button', class: 'kind', title: 'Show only ' + k + ' VMAs'},
          el('span', {class: 'sw'}), k + ' ' + count(e.count) + ' · ' + bytes(e.size) +
          (e.rss !== null && e.rss !== undefined ? ' (rss ' + bytes(e.rss) + ')' : ''));
        b.firstChild.style.background = KIND_COLOURS[KIND_INDEX[k]];
        b.addEventListener('click', () => {
          vmaFilter.value = vmaFilter.value === k ? '' : k;
          applyVmaFilter();
        });
        return b;
      }));
      const res = p.residency || {};
      const hp = p.hugepages || {};
      const rows = (pairs) => el('table', {class: 'plain'}, el('tbody', null, pairs.map(([k, val]) =>
        el('tr', null, el('th', {text: k}), el('td', {class: 'num', text: val})))));
      panels.replaceChildren(
        el('section', {class: 'panel'}, el('h2', {text: 'Residency'}), rows([
          ['source', res.source || '–'], ['walked', when(res.collected_at)],
          ['present', bytes(res.present)], ['swapped', bytes(res.swapped)],
          ['THP', bytes(res.thp)], ['soft-dirty', bytes(res.soft_dirty)],
          ['exclusive', bytes(res.exclusive)], ['resident share', pct(res.resident_ratio)]])),
        el('section', {class: 'panel'}, el('h2', {text: 'Huge pages'}), rows([
          ['HugeTLB', bytes(hp.hugetlb)], ['THP (anon)', bytes(hp.anon_huge)],
          ['shmem PMD-mapped', bytes(hp.shmem_pmd_mapped)], ['file PMD-mapped', bytes(hp.file_pmd_mapped)],
          ['THP-eligible VMAs', bytes(hp.thp_eligible_size)]])),
        el('section', {class: 'panel'}, el('h2', {text: 'Layout'}), rows([
          ['lowest', showAddr(normAddr(l.lowest))], ['highest', showAddr(normAddr(l.highest))],
          ['address bits', String(l.address_bits ?? '–')], ['top-down mmap', l.top_down === undefined || l.top_down === null ? '–' : l.top_down ? 'yes' : 'no'],
          ['heap start (start_brk)', showAddr(normAddr(l.start_brk))], ['arguments', showAddr(normAddr(l.arg_start))],
          ['environment', showAddr(normAddr(l.env_start))]])),
        el('section', {class: 'panel'}, el('h2', {text: 'High water'}), rows([
          ['VmHWM', bytes(hw.vm_hwm)], ['VmPeak', bytes(hw.vm_peak)],
          ['largest RSS seen', bytes(hw.observed_rss_max)], ['seen at', when(hw.observed_rss_max_at)]])));
    }

    function showMarkers() {
      const rowsOut = [];
      for (const m of map.markerPositions()) {
        let where = 'outside the mapped range';
        if (m.pos && m.pos.vma >= 0) {
          where = (m.pos.atEnd ? 'at the end of ' : 'in ') + (v.name[m.pos.vma] || '[anonymous ' + KINDS[v.kind[m.pos.vma]] + ']');
        }
        else if (m.pos) where = 'in the gap after ' + (v.name[m.pos.after] || 'an anonymous VMA');
        rowsOut.push(el('tr', null, el('td', {text: m.key}), el('td', {class: 'mono', text: showAddr(m.addr)}),
          el('td', {class: 'muted', text: where})));
      }
      if (!rowsOut.length) rowsOut.push(el('tr', null, el('td', {class: 'muted', text: 'No layout markers (kernel thread, or no ptrace-read access).'})));
      markers.replaceChildren(el('tbody', null, rowsOut));
    }

    async function readVmas(force) {
      if (loading) return loading;
      const t0 = performance.now();
      loading = (async () => {
        try {
          const cols = await loadVmas(base + '/vmas', ctx.signal, force ? null : v && v.etag);
          if (!cols) return;
          v = cols;
          list.setRows(Array.from({length: v.n}, (_, i) => i));
          applyVmaFilter();
          map.layoutKey = JSON.stringify((detail && detail.layout) || null);
          map.setData(v, detail && detail.layout);
          showMarkers();
          performance.mark('vmatlas:map-drawn');
          const ms = Math.round(performance.now() - t0);
          mapNote.textContent = count(v.n) + ' VMAs drawn (read and drawn in ' + count(ms) + ' ms). ' +
            'Width grows with log2 of the size; gaps are hatched and shrunk the same way. ' +
            'Hover or use the arrow keys for a VMA\'s figures; a click selects it in the list.';
        } finally {
          loading = null;
        }
      })();
      return loading;
    }

    let gone = false;
    async function refresh(auto) {
      if (gone && auto) return; /* asked again only when the view is opened again */
      /* The VMAs and the detail are read at the same time; a big VMA list only once. */
      const wantVmas = !v || (auto && detail && detail.vma_count <= AUTO_VMAS_MAX);
      const vmasP = wantVmas ? readVmas(false) : null;
      if (vmasP) vmasP.catch(() => {}); /* awaited below; not "unhandled" meanwhile */
      let doc;
      try {
        doc = await getJSON(base, ctx.signal);
      } catch (e) {
        if (!e || e.status !== 404) throw e;
        gone = true;
        title.textContent = 'No process ' + pid;
        mapNote.textContent = 'Process ' + pid + ' is not in the current snapshot: it has exited, or never was.';
        markReady('process');
        return;
      }
      detail = doc.process || {};
      showDetail(detail);
      reloadBtn.hidden = !(detail.vma_count > AUTO_VMAS_MAX);
      if (vmasP) await vmasP;
      const key = JSON.stringify(detail.layout || null);
      if (v && key !== map.layoutKey) { /* markers drawn before the detail arrived, or moved */
        map.layoutKey = key;
        map.layoutMarks = detail.layout || null;
        map.draw();
        showMarkers();
      }
      markReady('process');
    }
    return {refresh: refresh, destroy: () => {
      map.destroy();
      list.destroy();
    }};
  }

  function residencyCell(cell, v, i) {
    let strip = cell.firstChild;
    if (!strip) {
      strip = el('div', {class: 'strip'}, el('span', {class: 'thp'}), el('span', {class: 'present'}), el('span', {class: 'swapped'}));
      cell.append(strip);
    }
    const size = v.size[i];
    const present = v.present[i];
    const known = Number.isFinite(present) && size > 0;
    strip.classList.toggle('unknown', !known);
    const thp = known && Number.isFinite(v.thp[i]) ? Math.min(v.thp[i], present) : 0;
    const swapped = known && Number.isFinite(v.swapped[i]) ? v.swapped[i] : 0;
    const [a, b, c] = strip.children;
    a.style.width = known ? (100 * thp) / size + '%' : '0';
    b.style.width = known ? (100 * (present - thp)) / size + '%' : '0';
    c.style.width = known ? (100 * swapped) / size + '%' : '0';
    strip.title = known ? 'present ' + pct(present / size) + ', THP ' + pct(thp / size) + ', swapped ' + pct(swapped / size) : 'not walked yet';
  }

  function viewHiwater(ctx) {
    const BYS = ['comm', 'unit', 'cgroup', 'user', 'none'];
    const by = BYS.includes(ctx.query.get('by')) ? ctx.query.get('by') : 'comm';
    const select = el('select', {id: 'group-by'}, BYS.map((b) => el('option', {value: b, text: b})));
    select.value = by;
    select.addEventListener('change', () => {
      location.hash = '#/hiwater?by=' + encodeURIComponent(select.value);
    });
    const countEl = el('span', {class: 'count'});
    const bars = {key: 'bars', label: 'Compared', sortable: false, width: 'minmax(8em, 1.4fr)',
      get: () => null,
      render: (cell, g) => {
        let b = cell.firstChild;
        if (!b) {
          b = el('div', {class: 'bars'}, el('span', {class: 'b1'}), el('span', {class: 'b2'}), el('span', {class: 'b3'}));
          cell.append(b);
        }
        const vals = [g.rss, g.observed_rss_peak, g.vm_hwm_sum].map((x) => (typeof x === 'number' ? x : 0));
        const max = Math.max(1, ...vals);
        vals.forEach((x, k) => {
          b.children[k].style.width = (100 * x) / max + '%';
        });
        cell.title = 'rss ' + bytes(g.rss) + ', observed peak ' + bytes(g.observed_rss_peak) + ', VmHWM sum ' + bytes(g.vm_hwm_sum);
      }};
    const cols = [
      {key: 'key', label: by === 'none' ? 'All' : by, get: (g) => g.key, cls: 'mono', width: 'minmax(10em, 2fr)', title: (g) => String(g.key ?? '')},
      {key: 'processes', label: 'Procs', num: true, get: (g) => num(g.processes), fmt: count, width: '4.5em'},
      sizeCol('rss', 'RSS now', (g) => num(g.rss)),
      sizeCol('observed_rss_peak', 'Obs. peak', (g) => num(g.observed_rss_peak), 'Observed peak: the largest sum of the group\'s RSS seen in one snapshot'),
      {key: 'observed_rss_peak_at', label: 'Peak at', get: (g) => g.observed_rss_peak_at, fmt: when, width: '12.5em'},
      sizeCol('vm_hwm_sum', 'VmHWM sum', (g) => num(g.vm_hwm_sum), 'The sum of the processes\' own peaks (overstates the group\'s)'),
      sizeCol('vm_hwm_max', 'VmHWM max', (g) => num(g.vm_hwm_max)),
      {key: 'vm_hwm_max_pid', label: 'of PID', num: true, get: (g) => num(g.vm_hwm_max_pid), width: '5em'},
      sizeCol('vm_peak_max', 'VmPeak max', (g) => num(g.vm_peak_max)),
    ];
    if (by === 'cgroup') cols.push(sizeCol('memory_peak', 'memory.peak', (g) => num(g.memory_peak), 'The cgroup\'s own peak (memory.peak)'));
    cols.push({key: 'exited', label: 'Exited', num: true, get: (g) => num(g.exited), fmt: count, width: '4.5em'},
      sizeCol('exited_vm_hwm_max', 'Exited HWM', (g) => num(g.exited_vm_hwm_max), 'The largest VmHWM of the group\'s exited processes'), bars);
    const table = new VTable({
      label: 'High-water groups', height: 'min(52vh, 560px)', minWidth: '1200px', sortKey: 'observed_rss_peak', sortDir: -1,
      rowKey: (g) => g.key, columns: cols,
      onOpen: (g) => {
        if (!g) return;
        if ((by === 'comm' || by === 'user' || by === 'unit') && typeof g.key === 'string') {
          location.hash = '#/processes?' + new URLSearchParams([[by, g.key]]).toString();
        } else if (validPid(g.vm_hwm_max_pid)) location.hash = '#/process/' + g.vm_hwm_max_pid;
      },
    });
    const exited = new VTable({
      label: 'Exited processes', height: 'min(34vh, 360px)', minWidth: '1000px', rowKey: (e) => e.id,
      emptyText: 'No process has exited since the daemon started.',
      columns: [
        {key: 'pid', label: 'PID', num: true, get: (e) => num(e.pid), width: '5.5em'},
        {key: 'comm', label: 'Command', get: (e) => e.comm, cls: 'mono', width: 'minmax(9em, 2fr)'},
        {key: 'unit', label: 'Unit', get: (e) => e.unit, width: 'minmax(7em, 1.5fr)'},
        {key: 'start_time', label: 'Started', get: (e) => e.start_time, fmt: when, width: '12.5em'},
        {key: 'exited_by', label: 'Gone by', get: (e) => e.exited_by, fmt: when, width: '12.5em'},
        sizeCol('vm_hwm', 'VmHWM', (e) => num(e.vm_hwm)),
        sizeCol('vm_peak', 'VmPeak', (e) => num(e.vm_peak)),
        sizeCol('observed_rss_max', 'Largest RSS seen', (e) => num(e.observed_rss_max)),
      ],
    });
    view.replaceChildren(
      el('h1', {text: 'High water'}),
      el('div', {class: 'toolbar'}, el('label', null, 'group by ', select), countEl),
      el('div', {class: 'legend'},
        el('span', null, el('span', {class: 'sw', 'data-bar': '1'}), 'RSS now'),
        el('span', null, el('span', {class: 'sw', 'data-bar': '2'}), 'observed peak (largest sum seen together)'),
        el('span', null, el('span', {class: 'sw', 'data-bar': '3'}), 'sum of the processes\' VmHWM')),
      table.root,
      el('p', {class: 'note', text: 'Enter or a click on a group lists its processes (comm, user, unit) or opens its largest process.'}),
      el('h2', {text: 'Exited processes'}),
      exited.root);
    const sw = view.querySelectorAll('.legend .sw[data-bar]');
    sw[0].style.background = 'var(--bar-1)';
    sw[1].style.background = 'var(--bar-2)';
    sw[2].style.background = 'var(--bar-3)';
    async function refresh() {
      const [h, x] = await Promise.all([
        getJSON('/api/v1/hiwater?group_by=' + by, ctx.signal),
        getJSON('/api/v1/exited', ctx.signal)]);
      const groups = Array.isArray(h.groups) ? h.groups : [];
      if (groups !== table.all) table.setRows(groups);
      const ex = Array.isArray(x.exited) ? x.exited : [];
      if (ex !== exited.all) exited.setRows(ex);
      countEl.textContent = count(groups.length) + ' groups · ' + count(ex.length) + ' exited';
      markReady('hiwater');
    }
    return {refresh: refresh, destroy: () => {
      table.destroy();
      exited.destroy();
    }};
  }

  function viewHugepages(ctx) {
    const pools = el('div');
    const thp = el('div', {class: 'cols'});
    const users = el('div');
    view.replaceChildren(el('h1', {text: 'Huge pages'}),
      el('h2', {text: 'HugeTLB pools'}), pools,
      el('h2', {text: 'Transparent huge pages'}), thp,
      el('h2', {text: 'Largest users'}), users);
    async function refresh() {
      const d = await getJSON('/api/v1/hugepages', ctx.signal);
      const ps = (Array.isArray(d.pools) ? d.pools : []).slice().sort((a, b) =>
        (a.size_bytes - b.size_bytes) || ((a.numa_node ?? -1) - (b.numa_node ?? -1)));
      const head = ['Page size', 'NUMA node', 'Total', 'Free', 'In use', 'Reserved', 'Surplus', 'Bytes in use', 'Use'];
      const body = ps.map((p) => {
        const used = typeof p.total === 'number' && typeof p.free === 'number' ? p.total - p.free : null;
        const bar = el('div', {class: 'bars'}, el('span', {class: 'b1'}));
        bar.firstChild.style.width = p.total > 0 ? (100 * used) / p.total + '%' : '0';
        return el('tr', null,
          el('td', {text: bytes(p.size_bytes)}),
          el('td', {text: p.numa_node === null || p.numa_node === undefined ? 'all (global pool)' : 'node ' + p.numa_node}),
          el('td', {class: 'num', text: count(p.total)}), el('td', {class: 'num', text: count(p.free)}),
          el('td', {class: 'num', text: count(used)}),
          el('td', {class: 'num', text: p.reserved === null ? 'global only' : count(p.reserved)}),
          el('td', {class: 'num', text: count(p.surplus)}),
          el('td', {class: 'num', text: used === null ? '–' : bytes(used * p.size_bytes)}),
          el('td', {class: 'barcell'}, bar));
      });
      pools.replaceChildren(ps.length ? el('table', {class: 'plain', id: 'pools'},
        el('thead', null, el('tr', null, head.map((h, k) => el('th', {class: k >= 2 && k < 8 ? 'num' : '', text: h})))),
        el('tbody', null, body)) : el('p', {class: 'muted', text: 'No hugetlb pools on this host.'}));
      const t = d.thp || {};
      const kv = (pairs) => el('table', {class: 'plain'}, el('tbody', null, pairs.map(([k, val]) =>
        el('tr', null, el('th', {text: k}), el('td', {class: 'num', text: val})))));
      thp.replaceChildren(
        el('section', {class: 'panel'}, el('h2', {text: 'Modes'}), kv([
          ['enabled', t.enabled ?? '–'], ['defrag', t.defrag ?? '–'], ['shmem_enabled', t.shmem_enabled ?? '–']])),
        el('section', {class: 'panel'}, el('h2', {text: 'In use'}), kv([
          ['anonymous (AnonHugePages)', bytes(t.anon)], ['shmem (ShmemHugePages)', bytes(t.shmem)],
          ['file (FileHugePages)', bytes(t.file)]])));
      const tu = Array.isArray(d.top_users) ? d.top_users : [];
      users.replaceChildren(tu.length ? el('table', {class: 'plain', id: 'top-users'},
        el('thead', null, el('tr', null, ['PID', 'Command', 'HugeTLB', 'THP (anon)', 'shmem PMD', 'file PMD'].map((h, k) =>
          el('th', {class: k >= 2 ? 'num' : '', text: h})))),
        el('tbody', null, tu.map((u) => el('tr', null,
          el('td', null, processLink(u.pid)), el('td', {class: 'mono', text: u.comm ?? '–'}),
          el('td', {class: 'num', text: bytes(u.hugetlb)}), el('td', {class: 'num', text: bytes(u.anon_huge)}),
          el('td', {class: 'num', text: bytes(u.shmem_pmd_mapped)}), el('td', {class: 'num', text: bytes(u.file_pmd_mapped)})))))
        : el('p', {class: 'muted', text: 'No process uses huge pages.'}));
      markReady('hugepages');
    }
    return {refresh: refresh};
  }

  function viewFleet(ctx) {
    const body = el('div');
    view.replaceChildren(el('h1', {text: 'Fleet'}), body);
    let procTable = null;
    let hiTable = null;
    let off = false;
    async function optional(path) {
      try {
        return {doc: await getJSON(path, ctx.signal)};
      } catch (e) {
        if (e && e.name === 'AbortError') throw e;
        if (e && e.status === 401) throw e;
        return {error: e};
      }
    }
    async function refresh(auto) {
      if (off && auto) return; /* a daemon does not turn fleet mode on while it runs */
      const nodes = await optional('/api/v1/fleet/nodes');
      if (nodes.error) {
        off = nodes.error.status === 404;
        body.replaceChildren(el('section', {class: 'panel fleet-off', id: 'fleet-off'},
          el('h2', {text: off ? 'Fleet mode is off' : 'The fleet view is not available'}),
          el('p', {text: off
            ? 'This vmatlasd serves only its own node. Started with --peers (or --peers-file), it also merges its peers\' processes, high-water groups and huge pages, and they appear here.'
            : 'The daemon answered: ' + nodes.error.message}))); 
        document.body.dataset.fleet = off ? 'off' : 'error';
        markReady('fleet');
        return;
      }
      document.body.dataset.fleet = 'on';
      const list = Array.isArray(nodes.doc.nodes) ? nodes.doc.nodes : [];
      const nodeTable = el('table', {class: 'plain', id: 'fleet-nodes'},
        el('thead', null, el('tr', null, ['Node', 'Up', 'Host', 'Kernel', 'Processes', 'Latency', 'Snapshot age', 'Last success', 'Error'].map((h) => el('th', {text: h})))),
        el('tbody', null, list.map((n) => el('tr', null,
          el('td', {class: 'mono', text: n.node ?? n.url ?? '–', title: n.url ?? ''}),
          el('td', {class: n.up ? 'good' : 'bad', text: n.up ? 'up' : 'down'}),
          el('td', {text: n.hostname ?? '–'}), el('td', {text: n.kernel ?? '–'}),
          el('td', {class: 'num', text: count(n.processes_total)}),
          el('td', {class: 'num', text: typeof n.latency_ms === 'number' ? n.latency_ms.toFixed(1) + ' ms' : '–'}),
          el('td', {class: 'num', text: typeof n.snapshot_age_ms === 'number' ? (n.snapshot_age_ms / 1000).toFixed(1) + ' s' : '–'}),
          el('td', {text: when(n.last_success)}),
          el('td', {class: 'bad', text: n.error ?? ''})))));
      const [procs, hi] = await Promise.all([optional('/api/v1/fleet/processes?limit=1000'), optional('/api/v1/fleet/hiwater')]);
      if (!procTable) {
        procTable = new VTable({
          label: 'Fleet processes', height: 'min(40vh, 420px)', minWidth: '1000px', sortKey: 'rss', sortDir: -1,
          rowKey: (p) => String(p.node) + '/' + String(p.id),
          columns: [
            {key: 'node', label: 'Node', get: (p) => p.node, cls: 'mono', width: 'minmax(9em, 1.4fr)'},
            {key: 'pid', label: 'PID', num: true, get: (p) => num(p.pid), width: '5.5em'},
            {key: 'comm', label: 'Command', get: (p) => p.comm, cls: 'mono', width: 'minmax(9em, 2fr)', title: (p) => p.cmdline || ''},
            {key: 'user', label: 'User', get: (p) => p.user, width: 'minmax(5em, 1fr)'},
            {key: 'unit', label: 'Unit', get: (p) => p.unit, width: 'minmax(7em, 1.4fr)'},
            sizeCol('rss', 'RSS', (p) => num(p.memory && p.memory.vm_rss)),
            sizeCol('pss', 'PSS', (p) => num(p.rollup && p.rollup.pss)),
            sizeCol('swap', 'Swap', (p) => num(p.memory && p.memory.vm_swap)),
            sizeCol('vm_hwm', 'Peak RSS', (p) => num(p.memory && p.memory.vm_hwm)),
            {key: 'vmas', label: 'VMAs', num: true, get: (p) => num(p.vma_count), fmt: count, width: '5em'},
          ],
        });
        hiTable = new VTable({
          label: 'Fleet high-water groups', height: 'min(40vh, 420px)', minWidth: '1000px', sortKey: 'observed_rss_peak', sortDir: -1,
          rowKey: (g) => g.key,
          columns: [
            {key: 'key', label: 'Group', get: (g) => g.key, cls: 'mono', width: 'minmax(10em, 2fr)'},
            {key: 'processes', label: 'Procs', num: true, get: (g) => num(g.processes), fmt: count, width: '4.5em'},
            sizeCol('rss', 'RSS now', (g) => num(g.rss)),
            sizeCol('observed_rss_peak', 'Observed peak', (g) => num(g.observed_rss_peak)),
            sizeCol('vm_hwm_max', 'VmHWM max', (g) => num(g.vm_hwm_max)),
            {key: 'vm_hwm_max_node', label: 'on node', get: (g) => g.vm_hwm_max_node, cls: 'mono', width: 'minmax(8em, 1fr)'},
            {key: 'per_node', label: 'Per node (RSS)', sortable: false, width: 'minmax(14em, 2.5fr)',
              get: (g) => (Array.isArray(g.per_node) ? g.per_node.map((n) => String(n.node) + ' ' + bytes(n.rss)).join(' · ') : '')},
          ],
        });
      }
      const sections = [el('h2', {text: 'Nodes'}), nodeTable, el('h2', {text: 'Processes across the fleet'})];
      if (procs.error) sections.push(el('p', {class: 'errors', text: 'Not available: ' + procs.error.message}));
      else {
        procTable.setRows(Array.isArray(procs.doc.processes) ? procs.doc.processes : []);
        sections.push(procTable.root);
      }
      sections.push(el('h2', {text: 'High-water groups across the fleet'}));
      if (hi.error) sections.push(el('p', {class: 'errors', text: 'Not available: ' + hi.error.message}));
      else {
        hiTable.setRows(Array.isArray(hi.doc.groups) ? hi.doc.groups : []);
        sections.push(hiTable.root);
      }
      body.replaceChildren(...sections);
      markReady('fleet');
    }
    return {refresh: refresh, destroy: () => {
      if (procTable) procTable.destroy();
      if (hiTable) hiTable.destroy();
    }};
  }

  /* --- token ---------------------------------------------------------------------------- */

  function tokenForm(message) {
    stopView();
    document.body.dataset.view = 'token';
    const input = el('input', {type: 'password', id: 'token-input', autocomplete: 'off',
      spellcheck: 'false', 'aria-describedby': 'token-help', required: true});
    const form = el('form', {class: 'token', id: 'token-form'},
      el('h1', {text: 'Token required'}),
      el('p', {id: 'token-help', text: 'This vmatlasd wants a bearer token (the one in its --auth-token-file). ' +
        'It is kept for this tab only (sessionStorage) and sent as "Authorization: Bearer" with every API request.'}),
      message ? el('p', {class: 'errors', text: message}) : null,
      el('label', {for: 'token-input', text: 'Token'}), input,
      el('button', {type: 'submit', text: 'Use this token'}));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      docCache.clear();
      showBanner('');
      start();
    });
    view.replaceChildren(form);
    input.focus();
    document.body.dataset.ready = '1';
  }

  /* --- routing and the refresh loop ---------------------------------------------------- */

  const VIEWS = {processes: viewProcesses, process: viewProcess, hiwater: viewHiwater,
    hugepages: viewHugepages, fleet: viewFleet};
  let current = null;
  let intervalMs = 10000;
  let timer = 0;
  let node = null;

  function parseHash() {
    const m = /^#\/([a-z]+)(?:\/([^?]*))?(?:\?(.*))?$/.exec(location.hash);
    if (!m || !VIEWS[m[1]]) return {name: 'processes', arg: '', query: new URLSearchParams()};
    return {name: m[1], arg: m[2] || '', query: new URLSearchParams(m[3] || '')};
  }

  function stopView() {
    if (!current) return;
    current.controller.abort();
    if (current.destroy) current.destroy();
    current = null;
    hideTooltip();
  }

  function fail(e) {
    if (!e || e.name === 'AbortError') return;
    if (e.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      tokenForm(e.message);
      return;
    }
    showBanner(e.message || String(e));
  }

  async function runRefresh(cur, auto) {
    if (cur.busy) return;
    cur.busy = true;
    try {
      await cur.refresh(auto);
      if (current === cur) showBanner('');
    } finally {
      cur.busy = false;
    }
  }

  function route() {
    stopView();
    const {name, arg, query} = parseHash();
    const controller = new AbortController();
    document.body.dataset.view = name;
    delete document.body.dataset.ready;
    for (const a of document.querySelectorAll('nav [data-nav]')) {
      if (a.dataset.nav === name || (name === 'process' && a.dataset.nav === 'processes')) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = 'vmatlas · ' + name;
    const cur = {name: name, controller: controller, busy: false};
    current = cur;
    Object.assign(cur, VIEWS[name]({signal: controller.signal, arg: arg, query: query}));
    runRefresh(cur, false).catch(fail);
  }

  async function loadNode() {
    node = await getJSON('/api/v1/node');
    const ms = node.collector && node.collector.interval_ms;
    if (typeof ms === 'number' && ms > 0) intervalMs = Math.max(1000, ms);
    const s = node.snapshot || {};
    nodeEl.textContent = [node.hostname, node.kernel, count(s.processes) + ' processes', count(s.vmas) + ' VMAs'].filter(Boolean).join(' · ');
    nodeEl.title = 'vmatlasd ' + (node.version || '') + ', max_map_count ' + count(node.max_map_count);
    statusEl.textContent = 'snapshot #' + s.seq + ', ' + ago(s.collected_at) + ' · every ' + (intervalMs / 1000) + ' s';
  }

  async function tick() {
    timer = 0;
    try {
      if (!document.hidden && current && current.name !== 'token') {
        await loadNode();
        if (current) await runRefresh(current, true);
      }
    } catch (e) {
      fail(e);
    } finally {
      if (!timer && document.body.dataset.view !== 'token') timer = setTimeout(tick, intervalMs);
    }
  }

  async function start() {
    if (timer) clearTimeout(timer);
    timer = 0;
    try {
      await loadNode();
    } catch (e) {
      fail(e);
      if (e && e.status === 401) return;
    }
    route();
    timer = setTimeout(tick, intervalMs);
  }

  window.addEventListener('hashchange', () => {
    if (document.body.dataset.view === 'token') return;
    route();
  });
  window.addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    fail(e.reason);
  });
  start();
})();
