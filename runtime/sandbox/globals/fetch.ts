// fetch, Request, Response and Headers inside the isolate: the standard API over the component's fetch capability.
// Every request leaves through the bootstrap's `call(state, 'fetch', …)`, exactly as ctx.fetch does, so the same
// rules hold: ungranted → rejects with ERR_CAPABILITY_DENIED (refused in the isolate, nothing sent), arguments
// size-capped before they leave, each request counted against the invocation's hostCalls and the grant's
// maxRequests, every redirect hop checked by the engine. `fetch` belongs to the invocation whose slice is running
// (`current`); at module top level there is none and it rejects.
//
// What the capability carries sets the limits (documented in the README):
// - bodies are text: a string, URLSearchParams (sent as application/x-www-form-urlencoded), or bytes
//   (ArrayBuffer, a typed array, a DataView) that are valid UTF-8 — other bytes are refused with a TypeError;
// - a response body arrives as text decoded as UTF-8 by the engine: arrayBuffer()/bytes() give its UTF-8 encoding,
//   so a binary response does not survive; `body` (a stream) is null, blob()/formData() are not available;
// - redirects are always followed by the engine (redirect: 'manual' or 'error' throws); statusText is empty;
//   set-cookie is never shown; a network failure rejects with the capability's coded error (ERR_FETCH_FAILED…),
//   not a bare TypeError;
// - an AbortSignal aborts the request in the engine too (the worker drops the host call and asks the engine to abort
//   it) and the promise rejects with the signal's reason (an AbortError DOMException by default).

/**
 * Guest half, spliced into guest-bootstrap.ts after abort.ts. Uses `current`, `contexts`, `pending`, `seq`, `call`,
 * `toHost`, `hostError`, `abortInternals`, `stringify`, `parse`, `P`, `thenP`, `apply`, `slice`, `Str`, `create`,
 * `keys`, `freeze`, `defineProperty`, `TypeErr`, `RangeErr`, `OriginalArrayBuffer`.
 */
export const FETCH = String.raw`
{
  const ArrayC = Array, U8 = Uint8Array, isView = OriginalArrayBuffer.isView, fromCharCode = String.fromCharCode;
  const charCode = String.prototype.charCodeAt, toLower = String.prototype.toLowerCase, toUpper = String.prototype.toUpperCase;
  const regexExec = RegExp.prototype.exec, tagOf = Object.prototype.toString, sortArray = Array.prototype.sort;
  const iteratorSymbol = Symbol.iterator;
  const TOKEN = /^[!#$%&'*+\-.^_\x60|~0-9A-Za-z]+$/;
  const BAD_VALUE = /[\0\r\n]/;
  const EDGE_SPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
  const replace = String.prototype.replace;
  const A = abortInternals;
  const NULL_BODY = create(null);
  NULL_BODY[101] = true; NULL_BODY[103] = true; NULL_BODY[204] = true; NULL_BODY[205] = true; NULL_BODY[304] = true;
  const NORMAL = create(null);
  const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
  for (let i = 0; i < METHODS.length; i++) NORMAL[METHODS[i]] = METHODS[i];
  const FORBIDDEN = create(null);
  FORBIDDEN.CONNECT = true; FORBIDDEN.TRACE = true; FORBIDDEN.TRACK = true;

  // UTF-8, here because TextEncoder/TextDecoder may not be (another part of the bootstrap adds them).
  function encode(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = apply(charCode, s, [i]);
      if (c < 0x80) n += 1; else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (apply(charCode, s, [i + 1]) & 0xfc00) === 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    const out = new U8(n);
    let j = 0;
    for (let i = 0; i < s.length; i++) {
      let c = apply(charCode, s, [i]);
      if (c < 0x80) { out[j++] = c; continue; }
      if (c < 0x800) { out[j++] = 0xc0 | (c >> 6); out[j++] = 0x80 | (c & 63); continue; }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (apply(charCode, s, [i + 1]) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (apply(charCode, s, [++i]) - 0xdc00);
        out[j++] = 0xf0 | (c >> 18); out[j++] = 0x80 | ((c >> 12) & 63); out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate, as TextEncoder writes it
      out[j++] = 0xe0 | (c >> 12); out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63);
    }
    return out;
  }
  // Strict: bytes that are not UTF-8 throw (a body the capability could not carry as it is).
  function decode(bytes) {
    let out = '', chunk = create(null), k = 0;
    const flush = () => { const a = new ArrayC(k); for (let m = 0; m < k; m++) a[m] = chunk[m]; out += apply(fromCharCode, undefined, a); k = 0; };
    const bad = () => { throw new TypeErr('fetch: a binary body must be valid UTF-8: the fetch capability carries text (send base64 or hex text for other bytes)'); };
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let c, need;
      if (b < 0x80) { c = b; need = 0; } else if (b >= 0xc2 && b <= 0xdf) { c = b & 31; need = 1; }
      else if (b >= 0xe0 && b <= 0xef) { c = b & 15; need = 2; } else if (b >= 0xf0 && b <= 0xf4) { c = b & 7; need = 3; } else bad();
      if (i + need >= bytes.length) bad(); // cut short
      for (let m = 1; m <= need; m++) { const x = bytes[i + m]; if ((x & 0xc0) !== 0x80) bad(); c = (c << 6) | (x & 63); }
      if ((need === 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (need === 3 && (c < 0x10000 || c > 0x10ffff))) bad();
      i += need + 1;
      if (c >= 0x10000) { c -= 0x10000; chunk[k++] = 0xd800 + (c >> 10); chunk[k++] = 0xdc00 + (c & 1023); } else chunk[k++] = c;
      if (k >= 8192) flush();
    }
    flush();
    return out;
  }
  const bytesOf = (v) => {
    if (v instanceof OriginalArrayBuffer) return new U8(v);
    if (apply(isView, undefined, [v])) return new U8(v.buffer, v.byteOffset, v.byteLength);
    return undefined;
  };
  const isParams = (v) => { try { return apply(tagOf, v, []) === '[object URLSearchParams]'; } catch (_) { return false; } };

  // A body as the capability carries it: [text | null, its default content type | undefined].
  function extractBody(body) {
    if (body === null || body === undefined) return [null, undefined];
    if (typeof body === 'string') return [body, 'text/plain;charset=UTF-8'];
    if (isParams(body)) return [Str(body), 'application/x-www-form-urlencoded;charset=UTF-8'];
    const bytes = bytesOf(body);
    if (bytes !== undefined) return [decode(bytes), undefined];
    if (typeof body === 'object' || typeof body === 'function') {
      throw new TypeErr('fetch: a body must be a string, URLSearchParams or UTF-8 bytes (Blob, FormData and streams are not available); '
        + 'for JSON send JSON.stringify(value) with a content-type: application/json header');
    }
    return [Str(body), 'text/plain;charset=UTF-8'];
  }

  const name = (n) => {
    const s = Str(n);
    if (apply(regexExec, TOKEN, [s]) === null) throw new TypeErr("Headers: '" + apply(slice, s, [0, 64]) + "' is not a valid header name");
    return apply(toLower, s, []);
  };
  const value = (v) => {
    const s = apply(replace, Str(v), [EDGE_SPACE, '']);
    if (apply(regexExec, BAD_VALUE, [s]) !== null) throw new TypeErr('Headers: a header value must not contain NUL, CR or LF');
    return s;
  };

  // Header storage: lower-cased name -> value (repeated names joined with ', '), in a null-prototype object.
  let headersState;
  class Headers {
    #map = create(null);
    #immutable = false;
    constructor(init) {
      if (init === undefined || init === null) return;
      if (typeof init !== 'object' && typeof init !== 'function') throw new TypeErr('Headers: init must be an object, an array of [name, value] pairs, or Headers');
      if (#map in init) {
        const k = keys(init.#map);
        for (let i = 0; i < k.length; i++) this.#map[k[i]] = init.#map[k[i]];
      } else if (typeof init[iteratorSymbol] === 'function') {
        for (const pair of init) {
          if (pair === null || typeof pair !== 'object' || pair.length !== 2) throw new TypeErr('Headers: each pair must be [name, value]');
          this.#append(pair[0], pair[1]);
        }
      } else {
        const k = keys(init);
        for (let i = 0; i < k.length; i++) this.#append(k[i], init[k[i]]);
      }
    }
    #append(n, v) {
      const key = name(n), text = value(v);
      const previous = this.#map[key];
      this.#map[key] = previous === undefined ? text : previous + ', ' + text;
    }
    #mutable() { if (this.#immutable) throw new TypeErr('Headers: these headers are immutable (a fetch response\'s)'); }
    append(n, v) { this.#mutable(); this.#append(n, v); }
    set(n, v) { this.#mutable(); this.#map[name(n)] = value(v); }
    delete(n) { this.#mutable(); delete this.#map[name(n)]; }
    get(n) { const v = this.#map[name(n)]; return v === undefined ? null : v; }
    has(n) { return this.#map[name(n)] !== undefined; }
    getSetCookie() { return []; }
    forEach(callback, thisArg) {
      const list = this.#sorted();
      for (let i = 0; i < list.length; i++) apply(callback, thisArg, [list[i][1], list[i][0], this]);
    }
    #sorted() {
      const k = keys(this.#map);
      apply(sortArray, k, []);
      const out = new ArrayC(k.length);
      for (let i = 0; i < k.length; i++) out[i] = [k[i], this.#map[k[i]]];
      return out;
    }
    *entries() { const list = this.#sorted(); for (let i = 0; i < list.length; i++) yield list[i]; }
    *keys() { const list = this.#sorted(); for (let i = 0; i < list.length; i++) yield list[i][0]; }
    *values() { const list = this.#sorted(); for (let i = 0; i < list.length; i++) yield list[i][1]; }
    [iteratorSymbol]() { return this.entries(); }
    static {
      headersState = {
        isHeaders: (h) => h !== null && typeof h === 'object' && #map in h,
        map: (h) => h.#map,
        freeze: (h) => { h.#immutable = true; return h; },
        // The capability's shape: a plain object of strings (null prototype: no name can reach a prototype).
        plain: (h) => { const out = create(null), k = keys(h.#map); for (let i = 0; i < k.length; i++) out[k[i]] = h.#map[k[i]]; return out; },
      };
    }
  }
  defineProperty(Headers.prototype, Symbol.toStringTag, { value: 'Headers', configurable: true });
  const newHeaders = (init) => new Headers(init);
  const setDefaultType = (headers, type) => {
    const map = headersState.map(headers);
    if (type !== undefined && map['content-type'] === undefined) map['content-type'] = type;
  };

  // The body methods Request and Response share: the text is read once (bodyUsed), as a stream would be.
  const used = () => new TypeErr('Body is unusable: its body has already been read');
  const reject = (error) => new P((_, no) => no(error));
  const resolved = (v) => new P((yes) => yes(v));
  const readText = (text) => text === null ? '' : text;
  const bodyMethods = (take) => ({
    text() { const t = take(this); return t === used ? reject(used()) : resolved(readText(t)); },
    json() {
      const t = take(this);
      if (t === used) return reject(used());
      return new P((yes) => yes(parse(readText(t))));
    },
    arrayBuffer() { const t = take(this); return t === used ? reject(used()) : new P((yes) => yes(encode(readText(t)).buffer)); },
    bytes() { const t = take(this); return t === used ? reject(used()) : new P((yes) => yes(encode(readText(t)))); },
    blob() { return reject(new TypeErr('blob() is not available in the sandbox: use text(), json(), arrayBuffer() or bytes()')); },
    formData() { return reject(new TypeErr('formData() is not available in the sandbox: use text() (and URLSearchParams for a form)')); },
  });
  const install = (C, methods) => {
    const k = keys(methods);
    for (let i = 0; i < k.length; i++) defineProperty(C.prototype, k[i], { value: methods[k[i]], writable: true, configurable: true });
  };

  let requestState;
  class Request {
    #url; #method = 'GET'; #headers; #body = null; #signal = null; #used = false;
    constructor(input, init) {
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'Request': 1 argument required");
      if (input !== null && typeof input === 'object' && #url in input) {
        if (input.#used) throw new TypeErr('Request: cannot construct from a Request whose body was read');
        this.#url = input.#url; this.#method = input.#method; this.#headers = newHeaders(input.#headers);
        this.#body = input.#body; this.#signal = input.#signal;
      } else {
        this.#url = Str(input);
        this.#headers = newHeaders();
      }
      if (init !== undefined && init !== null) {
        if (typeof init !== 'object') throw new TypeErr('Request: init must be an object');
        const method = init.method;
        if (method !== undefined) {
          const m = Str(method);
          if (apply(regexExec, TOKEN, [m]) === null) throw new TypeErr("Request: '" + apply(slice, m, [0, 32]) + "' is not a valid method");
          const upper = apply(toUpper, m, []);
          if (FORBIDDEN[upper]) throw new TypeErr("Request: method '" + upper + "' is forbidden");
          this.#method = NORMAL[upper] !== undefined ? NORMAL[upper] : m;
        }
        const headers = init.headers;
        if (headers !== undefined) this.#headers = newHeaders(headers);
        const signal = init.signal;
        if (signal !== undefined) {
          if (signal !== null && !A.isSignal(signal)) throw new TypeErr('Request: init.signal must be an AbortSignal');
          this.#signal = signal;
        }
        const redirect = init.redirect;
        if (redirect !== undefined && Str(redirect) !== 'follow') {
          throw new TypeErr("Request: redirect '" + apply(slice, Str(redirect), [0, 32]) + "' is not supported: the fetch capability follows redirects itself, checking every hop against the grant");
        }
        const body = init.body;
        if (body !== undefined) {
          const [text, type] = extractBody(body);
          this.#body = text;
          setDefaultType(this.#headers, type);
        }
      }
      if (this.#body !== null && (this.#method === 'GET' || this.#method === 'HEAD')) {
        throw new TypeErr('Request with GET/HEAD method cannot have body.');
      }
    }
    get url() { return this.#url; }
    get method() { return this.#method; }
    get headers() { return this.#headers; }
    get signal() { if (this.#signal === null) this.#signal = A.newSignal(); return this.#signal; }
    get body() { return null; }
    get bodyUsed() { return this.#used; }
    get redirect() { return 'follow'; }
    clone() {
      if (this.#used) throw new TypeErr('Request.clone: its body has already been read');
      return new Request(this);
    }
    static {
      requestState = {
        take: (r) => { if (!(r !== null && typeof r === 'object' && #url in r)) throw new TypeErr('not a Request'); if (r.#used) return used; if (r.#body !== null) r.#used = true; return r.#body; },
        url: (r) => r.#url, method: (r) => r.#method, headers: (r) => r.#headers, body: (r) => r.#body,
        signal: (r) => r.#signal,
      };
    }
  }
  install(Request, bodyMethods(requestState.take));
  defineProperty(Request.prototype, Symbol.toStringTag, { value: 'Request', configurable: true });

  let responseState;
  class Response {
    #status = 200; #statusText = ''; #headers; #body = null; #url = ''; #redirected = false; #type = 'default'; #used = false;
    constructor(body, init) {
      if (init !== undefined && init !== null) {
        if (typeof init !== 'object') throw new TypeErr('Response: init must be an object');
        if (init.status !== undefined) {
          const s = +init.status;
          if (!(s >= 200 && s <= 599) || s % 1 !== 0) throw new RangeErr('Response: status must be an integer from 200 to 599');
          this.#status = s;
        }
        if (init.statusText !== undefined) this.#statusText = Str(init.statusText);
      }
      this.#headers = newHeaders(init !== undefined && init !== null ? init.headers : undefined);
      if (body !== undefined && body !== null) {
        if (NULL_BODY[this.#status]) throw new TypeErr('Response: a ' + this.#status + ' response cannot have a body');
        const [text, type] = extractBody(body);
        this.#body = text;
        setDefaultType(this.#headers, type);
      }
    }
    get status() { return this.#status; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get statusText() { return this.#statusText; }
    get headers() { return this.#headers; }
    get url() { return this.#url; }
    get redirected() { return this.#redirected; }
    get type() { return this.#type; }
    get body() { return null; }
    get bodyUsed() { return this.#used; }
    clone() {
      if (this.#used) throw new TypeErr('Response.clone: its body has already been read');
      const copy = new Response();
      responseState.fill(copy, this.#status, this.#statusText, newHeaders(this.#headers), this.#body, this.#url, this.#redirected, this.#type);
      return copy;
    }
    static json(data, init) {
      const text = stringify(data);
      if (text === undefined) throw new TypeErr('Response.json: the value cannot be serialised as JSON');
      const r = new Response(text, init);
      headersState.map(r.#headers)['content-type'] = 'application/json';
      return r;
    }
    static error() {
      const r = new Response();
      responseState.fill(r, 0, '', headersState.freeze(newHeaders()), null, '', false, 'error');
      return r;
    }
    static redirect(url, status) {
      const s = status === undefined ? 302 : +status;
      if (s !== 301 && s !== 302 && s !== 303 && s !== 307 && s !== 308) throw new RangeErr('Response.redirect: invalid redirect status');
      const r = new Response();
      const h = newHeaders();
      headersState.map(h).location = Str(url);
      responseState.fill(r, s, '', headersState.freeze(h), null, '', false, 'default');
      return r;
    }
    static {
      responseState = {
        take: (r) => { if (!(r !== null && typeof r === 'object' && #url in r)) throw new TypeErr('not a Response'); if (r.#used) return used; if (r.#body !== null) r.#used = true; return r.#body; },
        fill: (r, status, statusText, headers, body, url, redirected, type) => {
          r.#status = status; r.#statusText = statusText; r.#headers = headers; r.#body = body; r.#url = url;
          r.#redirected = redirected; r.#type = type;
        },
      };
    }
  }
  install(Response, bodyMethods(responseState.take));
  defineProperty(Response.prototype, Symbol.toStringTag, { value: 'Response', configurable: true });

  // A URL without its fragment and trailing slash: the engine answers with the final URL as WHATWG URL serialises it
  // ('http://a' comes back 'http://a/'), so that difference alone is no redirect.
  const bare = (u) => apply(replace, apply(replace, u, [/#.*$/, '']), [/\/$/, '']);

  // What the capability answered ({ status, url, headers, body }) as a Response.
  function responseOf(r, requestUrl) {
    const headers = newHeaders();
    const map = headersState.map(headers);
    const h = r.headers;
    if (h !== null && typeof h === 'object') {
      const k = keys(h);
      for (let i = 0; i < k.length; i++) if (typeof h[k[i]] === 'string') map[k[i]] = h[k[i]];
    }
    const response = new Response();
    const url = typeof r.url === 'string' ? r.url : '';
    responseState.fill(response, r.status, '', headersState.freeze(headers), typeof r.body === 'string' ? r.body : '',
      url, url !== '' && bare(url) !== bare(requestUrl), 'basic');
    return response;
  }

  const fetch = function fetch(input, init) {
    return new P((resolve, rejectP) => {
      const id = current;
      const state = id === undefined ? undefined : contexts[id];
      if (state === undefined) {
        return rejectP(hostError('fetch is only available while the component runs (in execute or init, or code they call): '
          + 'each request belongs to one invocation and counts against its limits; module top-level code runs in none', 'ERR_CAPABILITY_DENIED'));
      }
      let request;
      try { request = new Request(input, init); } catch (error) { return rejectP(error); }
      const signal = requestState.signal(request);
      if (signal !== null && A.aborted(signal)) return rejectP(A.reason(signal));
      const dto = {
        url: requestState.url(request), method: requestState.method(request),
        headers: headersState.plain(requestState.headers(request)),
        body: requestState.body(request) === null ? undefined : requestState.body(request),
      };
      // call() takes its host call id from seq synchronously (the promise executor runs at once): the id an abort
      // must drop. Unchanged seq: refused in the isolate, nothing in flight.
      const before = seq;
      const answer = call(state, 'fetch', [dto]);
      const callId = seq !== before ? seq : undefined;
      let settled = false, stopListening;
      const settle = () => { settled = true; if (stopListening !== undefined) stopListening(); };
      if (signal !== null) {
        stopListening = A.onAbort(signal, () => {
          if (settled) return;
          settle();
          if (callId !== undefined && pending[callId] !== undefined) {
            delete pending[callId];
            toHost(['abort', callId]);
          }
          rejectP(A.reason(signal));
        });
      }
      apply(thenP, answer, [(r) => {
        if (settled) return;
        settle();
        try { resolve(responseOf(r, dto.url)); } catch (error) { rejectP(error); }
      }, (error) => {
        if (settled) return;
        settle();
        rejectP(error);
      }]);
    });
  };
  const names = ['Headers', Headers, 'Request', Request, 'Response', Response, 'fetch', fetch];
  for (let i = 0; i < names.length; i += 2) {
    defineProperty(globalThis, names[i], { value: names[i + 1], writable: true, configurable: true, enumerable: false });
  }
}
`
