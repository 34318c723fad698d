// Calls kitgen-generated services through their generated TypeScript
// clients, compiled by tsc to ES modules, with no other code: the client
// classes, their types' runtime values (enum consts) and KitError.
//
//   node js/ts_client.mjs usersvc DIR URL TOKEN CLOSED EXTRA
//   node js/ts_client.mjs int64 EDGES_DIR EDGES_URL SHAPES_DIR SHAPES_URL
//
// usersvc: DIR holds user_service.js; URL serves examples/usersvc with a
// bearer token guard on the writes that accepts TOKEN; CLOSED is the URL
// of a server that is gone; EXTRA serves /busy (503 with Retry-After) and
// /slow (answers when the caller goes away). Every method is called, and
// the error paths; each case prints its result, which the Go test compares
// with the Go client's for the same calls.
//
// int64: the edges golden service and the conformance suite's shapes
// service, both echoing, get 64-bit integers beyond 2^53 and must give
// them back exactly, as bigints, while floats stay numbers.
//
// Each case prints one JSON line {"case", "ok", "problems", "result"};
// the script exits 1 if any failed.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const [mode, ...args] = process.argv.slice(2);

let failed = false;

// json writes a value as JSON, bigints as {"bigint": "digits"}.
const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? { bigint: x.toString() } : x));

// check runs one case: fn gets expect and returns the case's result, if
// it has one.
async function check(name, fn) {
  const problems = [];
  const expect = (cond, msg) => { if (!cond) problems.push(msg); };
  let result;
  try {
    result = await fn(expect);
  } catch (e) {
    problems.push(`threw: ${e && e.stack ? e.stack : e}`);
  }
  if (problems.length) failed = true;
  const line = { case: name, ok: problems.length === 0, problems };
  if (result !== undefined) line.result = result;
  console.log(json(line));
}

// outcome awaits a call and returns its result: {value} or {error}, and
// the value or the KitError itself.
async function outcome(KitError, call) {
  try {
    const value = await call();
    return { result: { value }, value };
  } catch (e) {
    if (!(e instanceof KitError)) throw e;
    const error = { code: e.code, message: e.message, violations: e.violations };
    if (e.retryAfter !== undefined) error.retryAfter = e.retryAfter;
    return { result: { error }, error: e };
  }
}

async function load(dir, file) {
  return import(pathToFileURL(join(dir, file)).href);
}

if (mode === 'usersvc') {
  const [dir, url, token, closed, extra] = args;
  const { UserServiceClient, KitError } = await load(dir, 'user_service.js');
  // The token comes from a function, as a client that refreshes it would
  // write it.
  const writer = new UserServiceClient(url + '/', { headers: async () => ({ Authorization: `Bearer ${token}` }) });
  const reader = new UserServiceClient(url);

  // call runs a case whose result the Go client's is compared with; more
  // checks what else the client says.
  const call = (name, fn, more) => check(name, async (expect) => {
    const o = await outcome(KitError, fn);
    if (more) more(expect, o);
    return o.result;
  });
  const failsWith = (code, status) => (expect, o) => {
    expect(o.error, `want a KitError ${code}, got ${json(o.result)}`);
    if (!o.error) return;
    expect(o.error.code === code, `code ${o.error.code}, want ${code}`);
    expect(o.error.status === status, `status ${o.error.status}, want ${status}`);
    expect(o.error instanceof Error && o.error.name === 'KitError', 'a KitError is an Error named KitError');
    expect(Array.isArray(o.error.violations), 'violations is an array');
  };

  let ada;
  await call('create ada', () => writer.createUser({ name: 'Ada', email: 'ada@example.com' }), (expect, o) => {
    ada = o.value;
    expect(ada && typeof ada.id === 'string' && ada.name === 'Ada', `created ${json(o.result)}`);
    expect(ada && !Number.isNaN(Date.parse(ada.created_at)), `created_at is RFC 3339: ${ada && ada.created_at}`);
  });
  const id = ada ? ada.id : 'none';
  await call('create grace', () => writer.createUser({ name: 'Grace', email: 'grace@example.com' }));
  await call('create with the call\'s headers', () => reader.createUser({ name: 'Lin', email: 'lin@example.com' },
    { headers: { Authorization: `Bearer ${token}` } }));
  await call('get ada', () => reader.getUser({ id }), (expect, o) => {
    expect(isDeepStrictEqual(o.value, ada), `get ${json(o.result)}, want ${json(ada)}`);
  });
  await call('update ada', () => writer.updateUser({ id, name: 'Ada L.', email: 'ada@example.com' }), (expect, o) => {
    expect(o.value && o.value.created_at === ada.created_at, 'update keeps created_at');
  });
  await call('list the first page', () => reader.listUsers({ pageSize: 1, pageToken: '' }), (expect, o) => {
    expect(o.value && o.value.users.length === 1 && o.value.nextPageToken === id, `list ${json(o.result)}`);
  });
  await call('list the next page', () => reader.listUsers({ pageSize: 10n, pageToken: id }), (expect, o) => {
    expect(o.value && o.value.users.length === 2 && o.value.nextPageToken === '', `a bigint page size: ${json(o.result)}`);
  });
  await call('delete ada', () => writer.deleteUser({ id }), (expect, o) => {
    expect(isDeepStrictEqual(o.value, {}), `delete ${json(o.result)}`);
  });
  await call('get after delete', () => reader.getUser({ id }), failsWith('not_found', 404));
  await call('update a missing user', () => writer.updateUser({ id: 'u999999', name: 'X', email: 'x@example.com' }), failsWith('not_found', 404));
  await call('delete a missing user', () => writer.deleteUser({ id: 'u999999' }), failsWith('not_found', 404));
  await call('get an id that needs escaping', () => reader.getUser({ id: 'a/b c?d' }), (expect, o) => {
    failsWith('not_found', 404)(expect, o);
    expect(o.error && o.error.message === 'user a/b c?d not found', `the server read the id whole: ${o.error && o.error.message}`);
  });
  await call('create an invalid user', () => writer.createUser({ name: ' ', email: 'nope' }), (expect, o) => {
    failsWith('invalid_argument', 400)(expect, o);
    const fields = (o.error ? o.error.violations : []).map((v) => v.field).sort();
    expect(json(fields) === '["email","name"]', `violations ${json(o.result)}`);
  });
  await call('create a duplicate', () => writer.createUser({ name: 'Grace', email: 'grace@example.com' }), failsWith('already_exists', 409));
  await call('list with a negative page size', () => reader.listUsers({ pageSize: -1, pageToken: '' }), (expect, o) => {
    failsWith('invalid_argument', 400)(expect, o);
    expect(o.error && o.error.violations.some((v) => v.field === 'pageSize'), `violations ${json(o.result)}`);
  });
  // Wrong types, which TypeScript allows through a cast (this is
  // JavaScript: no cast needed): the server refuses them.
  await call('a number for a string', () => writer.createUser({ name: 5, email: 'five@example.com' }), failsWith('invalid_argument', 400));
  await call('a string for a page size', () => reader.listUsers({ pageSize: 'ten', pageToken: '' }), (expect, o) => {
    failsWith('invalid_argument', 400)(expect, o);
    expect(o.error && o.error.violations.some((v) => v.field === 'pageSize'), `violations ${json(o.result)}`);
  });
  await call('create without a token', () => reader.createUser({ name: 'Eve', email: 'eve@example.com' }), failsWith('unauthenticated', 401));
  await call('create with a bad token', () => new UserServiceClient(url, { headers: { Authorization: 'Bearer not-a-token' } })
    .createUser({ name: 'Eve', email: 'eve@example.com' }), (expect, o) => {
    failsWith('unauthenticated', 401)(expect, o);
    expect(!json(o.result).includes('not-a-token'), 'the token is not echoed');
  });
  await call('a route the server does not have', () => new UserServiceClient(url + '/nope').getUser({ id }), (expect, o) => {
    failsWith('not_found', 404)(expect, o);
    expect(o.error && o.error.cause instanceof Error, 'the body is the cause');
  });
  await call('busy, retry after', () => new UserServiceClient(extra + '/busy').getUser({ id }), (expect, o) => {
    failsWith('unavailable', 503)(expect, o);
    expect(o.error && o.error.retryAfter === 3, `retryAfter ${o.error && o.error.retryAfter}`);
  });
  await call('server gone', () => new UserServiceClient(closed).getUser({ id }), (expect, o) => {
    failsWith('unavailable', 0)(expect, o);
    expect(o.error && o.error.cause !== undefined, 'the network error is the cause');
  });
  await call('aborted', () => reader.getUser({ id }, { signal: AbortSignal.abort() }), failsWith('canceled', 0));
  await call('timed out', () => new UserServiceClient(extra + '/slow').getUser({ id }, { signal: AbortSignal.timeout(100) }),
    failsWith('deadline_exceeded', 0));

  await check('a custom fetch sees the request', async (expect) => {
    const seen = [];
    const client = new UserServiceClient(url, {
      fetch: (input, init) => { seen.push({ url: String(input), init }); return fetch(input, init); },
      headers: { 'X-Trace': 'client', Accept: 'text/plain' },
    });
    await client.listUsers({ pageSize: 2, pageToken: 'u000000' }, { headers: { 'X-Trace': 'call' } });
    const s = seen[0];
    expect(s && s.url === `${url}/users?pageSize=2&pageToken=u000000`, `url ${s && s.url}`);
    expect(s && s.init.method === 'GET' && s.init.body === undefined, 'GET without a body');
    const h = s && new Headers(s.init.headers);
    expect(h && h.get('X-Trace') === 'call', 'the call\'s headers win');
    expect(h && h.get('Accept') === 'application/json', 'Accept is JSON');
    const w = new UserServiceClient(url, { fetch: (input, init) => { seen.push({ url: String(input), init }); return fetch(input, init); }, headers: { Authorization: `Bearer ${token}` } });
    await w.updateUser({ id: 'u000002', name: 'Grace H.', email: 'grace@example.com' });
    const u = seen[1];
    expect(u && isDeepStrictEqual(JSON.parse(u.init.body), { name: 'Grace H.', email: 'grace@example.com' }), `the body leaves out the path's id: ${u && u.init.body}`);
    expect(u && new Headers(u.init.headers).get('Content-Type') === 'application/json', 'Content-Type is JSON');
  });
} else if (mode === 'int64') {
  const [edgesDir, edgesURL, shapesDir, shapesURL] = args;
  const edges = await load(edgesDir, 'edges.js');
  const shapes = await load(shapesDir, 'shapes.js');
  const e = new edges.EdgesClient(edgesURL);
  const s = new shapes.ShapesClient(shapesURL);
  const same = (expect, got, want, what) => {
    expect(typeof got === typeof want && got === want, `${what}: got ${typeof got} ${json(got)}, want ${typeof want} ${json(want)}`);
  };
  const beyond = 9007199254740993n; // 2^53 + 1: a number would read 2^53

  await check('a duration beyond 2^53', async (expect) => {
    same(expect, await e.sleep({ d: beyond }), beyond, 'sleep');
    same(expect, await e.sleep({ d: 5 }), 5, 'a safe value is a number');
    same(expect, await e.sleep({ d: 5n }), 5, 'a safe bigint comes back a number');
    same(expect, await e.sleep({ d: -9223372036854775808n }), -9223372036854775808n, 'min int64');
    same(expect, await e.sleep({ d: 9223372036854775807n }), 9223372036854775807n, 'max int64');
    same(expect, await e.sleep({ d: -(2n ** 53n) + 1n }), -(2 ** 53) + 1, 'the most negative safe integer is a number');
  });
  await check('an int beyond 2^53 in a lone result', async (expect) => {
    same(expect, await e.reserve({ seats: beyond }), beyond, 'reserve');
  });
  await check('the server reads the value exactly', async (expect) => {
    const c = await e.charge({ amount: beyond });
    expect(c.id === '9007199254740993', `the server read ${c.id}`);
  });
  await check('out of range is refused', async (expect) => {
    try {
      await e.sleep({ d: 2n ** 63n });
      expect(false, '2^63 is not an int64');
    } catch (err) {
      expect(err instanceof edges.KitError && err.code === 'invalid_argument' && err.status === 400, `error ${err}`);
    }
    try {
      await e.reserve({ seats: 0 });
      expect(false, 'Validate refuses 0 seats');
    } catch (err) {
      expect(err instanceof edges.KitError && err.code === 'invalid_argument', `error ${err}`);
    }
  });
  await check('any JSON keeps big integers, paths escape', async (expect) => {
    const item = {
      id: 'a/b c', created: '2024-02-29T23:59:59.5Z', note: 'n', code: 'B', codes: ['C', 'D'], labels: { k: 'v' }, tags: ['t'],
      raw: { big: 12345678901234567890n, small: 1, f: 0.5, list: [beyond] }, by_code: { x: 'E' }, nets: { 7: '10.0.0.0/8' }, addr: '::1',
    };
    const got = await e.put(item);
    expect(got.id === 'a/b c', `the path's id: ${got.id}`);
    same(expect, got.raw.big, 12345678901234567890n, 'raw.big');
    same(expect, got.raw.small, 1, 'raw.small');
    same(expect, got.raw.f, 0.5, 'raw.f');
    same(expect, got.raw.list[0], beyond, 'raw.list[0]');
    expect(got.created === item.created && got.code === 'B' && json(got.codes) === '["C","D"]', `item ${json(got)}`);
    expect(got.nets['7'] === '10.0.0.0/8' && got.addr === '::1', `text types ${json(got)}`);
  });
  await check('query lists', async (expect) => {
    const got = await e.find({ tags: ['x', 'y z'], codes: ['A', 'Z'], near: '127.0.0.1', note: 'hi', since: '2024-01-02T03:04:05Z' });
    expect(Array.isArray(got) && got.length === 1, `find ${json(got)}`);
    const it = got[0];
    expect(it && json(it.tags) === '["x","y z"]' && json(it.codes) === '["A","Z"]' && it.id === '127.0.0.1' && it.note === 'hi', `find ${json(got)}`);
    expect(it && it.created === '2024-01-02T03:04:05Z', `since ${it && it.created}`);
  });
  await check('every scalar kind', async (expect) => {
    const sent = {
      b: true, i: 9223372036854775807n, i8: -128, i16: 32767, i32: -2147483648, i64: -9223372036854775808n,
      u: 18446744073709551615n, u8: 255, u16: 65535, u32: 4294967295, u64: beyond,
      s32: 2147483647, s64: beyond, f32: 16777216, f64: 1e20, str: 'héllo 🌍', bytes: 'AAEC/w==',
    };
    const got = await s.scalars(sent);
    for (const [k, v] of Object.entries(sent)) same(expect, got[k], v, k);
  });
  // Collections is left out: its map[bool]int64 field is one encoding/json
  // cannot write, so its HTTP route cannot answer.
  await check('durations, alone and in a list', async (expect) => {
    const got = await s.times({ when: '2024-02-29T23:59:59.000000007Z', when_ptr: null, dur: 9223372036854775807n, whens: [], durs: [1, beyond] });
    same(expect, got.dur, 9223372036854775807n, 'dur');
    same(expect, got.durs[0], 1, 'durs[0]');
    same(expect, got.durs[1], beyond, 'durs[1]');
    expect(got.when === '2024-02-29T23:59:59.000000007Z' && got.when_ptr === null, `times ${json(got)}`);
  });
  await check('enums are unions with a const of their names', async (expect) => {
    expect(shapes.Color.ColorGreen === 2 && shapes.Color.ColorBlue === 3, `Color ${json(shapes.Color)}`);
    const got = await s.enums({ color: shapes.Color.ColorGreen, colors: [shapes.Color.ColorRed, 42], by_name: { red: 1 } });
    expect(got.color === 2 && json(got.colors) === '[1,42]' && got.by_name.red === 1, `enums ${json(got)}`);
    same(expect, await s.shade({ c: shapes.Color.ColorBlue }), 3, 'shade');
    same(expect, await s.length({ s: 'héllo' }), 6, 'length, a lone int64');
  });
  await check('unsafe requests are refused before they are sent', async (expect) => {
    try {
      await s.scalars({ f64: NaN });
      expect(false, 'NaN has no JSON form');
    } catch (err) {
      expect(err instanceof shapes.KitError && err.code === 'invalid_argument' && err.status === 0, `error ${err}`);
    }
  });
} else {
  console.error('usage: node js/ts_client.mjs usersvc DIR URL TOKEN CLOSED EXTRA | int64 EDGES_DIR EDGES_URL SHAPES_DIR SHAPES_URL');
  process.exit(2);
}
process.exit(failed ? 1 : 0);
