// URL and URLSearchParams. URL parsing and setters are worker calls to Node's WHATWG parser (worker-calls.ts), the
// input capped here before it is copied (its length is read, never its characters: a 10 MB rope is refused without
// being flattened); the components come back and live in the URL object. URLSearchParams is all in the isolate
// (application/x-www-form-urlencoded), and a URL's searchParams writes its query back through the search setter.
export const URL_GLOBALS = String.raw`
const makeURLs = once(() => {
  const isHexDigit = (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
  const hexValue = (c) => c <= 57 ? c - 48 : (c | 32) - 87;
  // Percent-decoding of the UTF-8 bytes of s ('+' as space), then UTF-8 decoding with replacement.
  function formDecode(s) {
    const bytes = utf8Encode(s);
    const n = taCount(bytes);
    const out = new U8(n);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (b === 43) out[w++] = 32;
      else if (b === 37 && i + 2 < n && isHexDigit(bytes[i + 1]) && isHexDigit(bytes[i + 2])) { out[w++] = hexValue(bytes[i + 1]) * 16 + hexValue(bytes[i + 2]); i += 2; }
      else out[w++] = b;
    }
    return utf8Decode(new U8(taBuffer(out), 0, w), utf8State(), false, true, true);
  }
  const HEXU = '0123456789ABCDEF';
  function formEncode(s) {
    const bytes = utf8Encode(s);
    let out = '';
    for (let i = 0; i < taCount(bytes); i++) {
      const b = bytes[i];
      if (b === 32) out += '+';
      else if (b === 42 || b === 45 || b === 46 || b === 95 || (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)) out += fromCharCode(b);
      else out += '%' + HEXU[b >> 4] + HEXU[b & 15];
    }
    return out;
  }
  const usv = (v) => wellFormed(Str(v));
  // The pairs of a query string, as a list of [name, value] lists.
  function parseQuery(query) {
    const list = newList();
    let start = 0;
    for (let i = 0; i <= query.length; i++) {
      if (i < query.length && charCode(query, i) !== 38) continue;
      if (i > start) {
        const part = strSlice(query, start, i);
        let eq = 0;
        while (eq < part.length && charCode(part, eq) !== 61) eq++;
        const pair = newList();
        listPush(pair, formDecode(strSlice(part, 0, eq)));
        listPush(pair, formDecode(eq < part.length ? strSlice(part, eq + 1) : ''));
        listPush(list, pair);
      }
      start = i + 1;
    }
    return list;
  }
  const capped = (s, what) => {
    if (s.length > GLOBAL_LIMITS.urlChars) throw globalTooLarge(what + ': the URL is ' + s.length + ' characters, over the ' + GLOBAL_LIMITS.urlChars + '-character cap');
    return s;
  };
  const FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
  function toComponents(json) {
    const a = parse(json), c = create(null);
    for (let i = 0; i < 11; i++) c[FIELDS[i]] = a[i];
    return c;
  }

  let linkQuery, setFromQuery;
  class URLSearchParams {
    #list; #url;
    constructor(init = undefined) {
      if (init === ILLEGAL) { this.#list = newList(); return; }
      if (init !== null && typeof init === 'object' && #list in init) { this.#list = copyPairs(init.#list); return; }
      if (init !== null && (typeof init === 'object' || typeof init === 'function')) {
        const list = newList();
        const iterator = init[symbolIterator];
        if (iterator !== undefined && iterator !== null) {
          for (const pair of init) {
            if (pair === null || typeof pair !== 'object') throw new TypeErr('URLSearchParams: each pair must be a sequence of two strings');
            const items = newList();
            for (const item of pair) listPush(items, usv(item));
            if (items.length !== 2) throw new TypeErr('URLSearchParams: each pair must have exactly two items, [name, value]');
            listPush(list, items);
          }
        } else {
          const k = keys(init);
          for (let i = 0; i < k.length; i++) { const p = newList(); listPush(p, usv(k[i])); listPush(p, usv(init[k[i]])); listPush(list, p); }
        }
        this.#list = list;
        return;
      }
      let s = init === undefined ? '' : usv(init);
      if (s.length > 0 && charCode(s, 0) === 63) s = strSlice(s, 1);
      this.#list = parseQuery(s);
    }
    static {
      linkQuery = (params, url, search) => { params.#url = url; params.#list = parseQuery(search.length > 0 ? strSlice(search, 1) : ''); };
    }
    #update() { if (this.#url !== undefined) setFromQuery(this.#url, this.toString()); }
    get size() { return this.#list.length; }
    append(name, value) { const p = newList(); listPush(p, usv(name)); listPush(p, usv(value)); listPush(this.#list, p); this.#update(); }
    delete(name, value = undefined) {
      const n = usv(name), v = value === undefined ? undefined : usv(value);
      const kept = newList(), list = this.#list;
      for (let i = 0; i < list.length; i++) if (!(list[i][0] === n && (v === undefined || list[i][1] === v))) listPush(kept, list[i]);
      this.#list = kept;
      this.#update();
    }
    get(name) { const n = usv(name), list = this.#list; for (let i = 0; i < list.length; i++) if (list[i][0] === n) return list[i][1]; return null; }
    getAll(name) {
      const n = usv(name), list = this.#list, out = newList();
      for (let i = 0; i < list.length; i++) if (list[i][0] === n) listPush(out, list[i][1]);
      return listToArray(out);
    }
    has(name, value = undefined) {
      const n = usv(name), v = value === undefined ? undefined : usv(value), list = this.#list;
      for (let i = 0; i < list.length; i++) if (list[i][0] === n && (v === undefined || list[i][1] === v)) return true;
      return false;
    }
    set(name, value) {
      const n = usv(name), v = usv(value), list = this.#list, kept = newList();
      let found = false;
      for (let i = 0; i < list.length; i++) {
        if (list[i][0] !== n) listPush(kept, list[i]);
        else if (!found) { found = true; const p = newList(); listPush(p, n); listPush(p, v); listPush(kept, p); }
      }
      if (!found) { const p = newList(); listPush(p, n); listPush(p, v); listPush(kept, p); }
      this.#list = kept;
      this.#update();
    }
    sort() {
      // Stable insertion sort by name, in UTF-16 code units (the standard's order).
      const list = this.#list;
      for (let i = 1; i < list.length; i++) {
        const item = list[i];
        let j = i - 1;
        while (j >= 0 && list[j][0] > item[0]) { list[j + 1] = list[j]; j--; }
        list[j + 1] = item;
      }
      this.#update();
    }
    toString() {
      const list = this.#list;
      let out = '';
      for (let i = 0; i < list.length; i++) out += (i > 0 ? '&' : '') + formEncode(list[i][0]) + '=' + formEncode(list[i][1]);
      return out;
    }
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') throw new TypeErr('URLSearchParams.forEach: the callback must be a function');
      for (let i = 0; i < this.#list.length; i++) { const p = this.#list[i]; apply(callback, thisArg, [p[1], p[0], this]); }
    }
    *entries() { for (let i = 0; i < this.#list.length; i++) { const p = this.#list[i]; yield [p[0], p[1]]; } }
    *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
    *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
    [symbolIterator]() { return this.entries(); }
  }
  function copyPairs(list) {
    const out = newList();
    for (let i = 0; i < list.length; i++) { const p = newList(); listPush(p, list[i][0]); listPush(p, list[i][1]); listPush(out, p); }
    return out;
  }
  tagged(URLSearchParams, 'URLSearchParams');

  class URL {
    #c; #query;
    constructor(url, base = undefined) {
      if (arguments.length === 0) throw new TypeErr("URL: 1 argument required, but only 0 present");
      const input = capped(usv(url), 'new URL'), b = base === undefined ? undefined : capped(usv(base), 'new URL (base)');
      const json = workerCall('url', input, b, undefined, true);
      if (json === null) throw new TypeErr("Invalid URL: '" + strSlice(input, 0, 200) + "'" + (b === undefined ? '' : " against the base '" + strSlice(b, 0, 200) + "'"));
      this.#c = toComponents(json);
      this.#query = new URLSearchParams(ILLEGAL);
      linkQuery(this.#query, this, this.#c.search);
    }
    static canParse(url, base = undefined) {
      const input = capped(usv(url), 'URL.canParse'), b = base === undefined ? undefined : capped(usv(base), 'URL.canParse');
      return workerCall('url', input, b, undefined, true) !== null;
    }
    static parse(url, base = undefined) {
      const input = capped(usv(url), 'URL.parse'), b = base === undefined ? undefined : capped(usv(base), 'URL.parse');
      return workerCall('url', input, b, undefined, true) === null ? null : new URL(input, b);
    }
    static {
      setFromQuery = (url, query) => { url.#c = toComponents(workerCall('url-set', url.#c.href, 'search', query)); };
    }
    #set(field, value) {
      const v = capped(usv(value), 'URL.' + field);
      const json = workerCall('url-set', this.#c.href, field, v, true);
      if (json === null) {
        if (field === 'href') throw new TypeErr("Invalid URL: '" + strSlice(v, 0, 200) + "'");
        return; // an invalid part is ignored, as the standard says
      }
      this.#c = toComponents(json);
      if (field === 'href' || field === 'search') linkQuery(this.#query, this, this.#c.search);
    }
    get href() { return this.#c.href; } set href(v) { this.#set('href', v); }
    get origin() { return this.#c.origin; }
    get protocol() { return this.#c.protocol; } set protocol(v) { this.#set('protocol', v); }
    get username() { return this.#c.username; } set username(v) { this.#set('username', v); }
    get password() { return this.#c.password; } set password(v) { this.#set('password', v); }
    get host() { return this.#c.host; } set host(v) { this.#set('host', v); }
    get hostname() { return this.#c.hostname; } set hostname(v) { this.#set('hostname', v); }
    get port() { return this.#c.port; } set port(v) { this.#set('port', v); }
    get pathname() { return this.#c.pathname; } set pathname(v) { this.#set('pathname', v); }
    get search() { return this.#c.search; } set search(v) { this.#set('search', v); }
    get hash() { return this.#c.hash; } set hash(v) { this.#set('hash', v); }
    get searchParams() { return this.#query; }
    toString() { return this.#c.href; }
    toJSON() { return this.#c.href; }
  }
  tagged(URL, 'URL');
  const all = create(null);
  all.URL = URL; all.URLSearchParams = URLSearchParams;
  return all;
});
lazyGlobal('URL', () => makeURLs().URL);
lazyGlobal('URLSearchParams', () => makeURLs().URLSearchParams);
`
