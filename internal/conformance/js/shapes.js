// The values of the shapes.Shapes service as a JavaScript protobuf client
// writes and reads them (64-bit integers as decimal strings, enums as
// numbers, bytes as Buffers, google.protobuf.Timestamp and Duration as
// {seconds, nanos}). values_test.go holds the same values in Go: keep the
// two in step.
'use strict';

const { ABSENT } = require('./compare');
const protobuf = require('protobufjs');

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const MAX_F32 = 3.4028234663852886e38;
const MIN_F32 = 1.401298464324817e-45;

const scalars = {
  zero: {},
  max: {
    b: true, i: '9223372036854775807', i8: 127, i16: 32767, i32: 2147483647, i64: '9223372036854775807',
    u: '18446744073709551615', u8: 255, u16: 65535, u32: 4294967295, u64: '18446744073709551615',
    s32: 2147483647, s64: '9223372036854775807', f32: MAX_F32, f64: Number.MAX_VALUE,
    str: 'max', bytes: Buffer.from([0xff, 0xff, 0xff]),
  },
  min: {
    i: '-9223372036854775808', i8: -128, i16: -32768, i32: -2147483648, i64: '-9223372036854775808',
    s32: -2147483648, s64: '-9223372036854775808', f32: MIN_F32, f64: -Number.MAX_VALUE,
    str: '', bytes: Buffer.from([0]),
  },
  negative: {
    i: '-1', i8: -1, i16: -1, i32: -1, i64: '-1', s32: -1, s64: '-1', f32: -1.5, f64: -0.25,
    u: '9223372036854775808', u32: 2147483648, u64: '9223372036854775808',
  },
  unicode: { str: 'héllo, 世界 🌍 \u0000 end', bytes: allBytes },
  nan: { f32: NaN, f64: NaN },
  inf: { f32: Infinity, f64: -Infinity },
  negzero: { f32: -0, f64: -0 },
};

const optional = {
  absent: { i: ABSENT, u: ABSENT, s: ABSENT, b: ABSENT, f: ABSENT, color: ABSENT, inner: ABSENT, when: ABSENT },
  zeros: { i: '0', u: 0, s: '', b: false, f: 0, color: 0, inner: { name: '', n: 0 }, when: { seconds: '0', nanos: 0 } },
  set: {
    i: '-7', u: 7, s: 'seven', b: true, f: 7.5, color: 3, inner: { name: 'in', n: 7 },
    when: { seconds: '1709251199', nanos: 7 },
  },
};

const enums = {
  zero: {},
  named: { color: 2, colors: [1, 0, 3, 1], by_name: { red: 1, none: 0, blue: 3 } },
  unknown: { color: 42, colors: [-1, 1000], by_name: { big: 2147483647, negative: -2147483648 } },
};

function chain(n) {
  let head = null;
  for (let i = n; i > 0; i--) head = { name: 'n'.repeat((i % 5) + 1), next: head };
  return head;
}

const tree = {
  leaf: { name: 'leaf' },
  tree: {
    name: 'root',
    children: [
      { name: 'a', children: [{ name: 'a1' }, { name: 'a2', next: { name: 'a2next' } }] },
      { name: 'b' },
      { name: '', children: [{ name: 'c1' }] },
    ],
  },
  deep: chain(100),
};

const collections = {
  empty: {},
  full: {
    strs: ['a', '', 'ü', 'long ' + 'x'.repeat(300)],
    ints: ['0', '-1', '1', '9223372036854775807', '-9223372036854775808'],
    sints: [0, -1, 1, 2147483647, -2147483648],
    u32s: [0, 1, 4294967295],
    floats: [0, -1.5, Number.MAX_VALUE, Infinity],
    f32s: [1.25, -2.5, MAX_F32],
    bools: [true, false, true],
    blobs: [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from([0])],
    inners: [{ name: 'x', n: 1 }, {}, { name: 'z', n: -3 }],
    inner_ptrs: [{ name: 'p', n: 1 }, { name: 'q' }],
    map_ss: { k: 'v', '': 'empty key', 'empty value': '' },
    map_is: { 0: 'zero', '-1': 'minus one', 2147483647: 'max', '-2147483648': 'min' },
    map_ui: { 0: '1', '18446744073709551615': '-9223372036854775808' },
    map_bi: { true: '1', false: '-1' },
    map_sm: { one: { name: 'one', n: 1 }, zero: {} },
    map_sb: { bytes: Buffer.from([0xde, 0xad]), none: Buffer.alloc(0) },
  },
};

// protobuf.js keeps the keys of maps with 64-bit keys as 8-character
// hashes of the number (a known protobuf.js quirk): read them back as the
// decimal numbers the wire carried.
function fix64BitKeys(map, unsigned) {
  if (!map) return map;
  const out = {};
  for (const [k, v] of Object.entries(map)) {
    const key = k.length === 8 && !/^-?[0-9]+$/.test(k) ? protobuf.util.LongBits.fromHash(k).toLong(unsigned).toString() : k;
    out[key] = v;
  }
  return out;
}

const times = {
  zero: {},
  set: {
    when: { seconds: '1709251199', nanos: 999999999 },
    when_ptr: { seconds: '-1', nanos: 500000000 },
    dur: { seconds: '1', nanos: 500000000 },
    whens: [{ seconds: '0', nanos: 0 }, { seconds: '253402300799', nanos: 0 }],
    durs: [{ seconds: '-1', nanos: -500000000 }, {}, { seconds: '0', nanos: 1 }],
  },
  edges: {
    when: { seconds: '-62135596799', nanos: 0 },
    when_ptr: { seconds: '253402300799', nanos: 999999999 },
    dur: { seconds: '9223372036', nanos: 854775807 },
    durs: [{ seconds: '-9223372036', nanos: -854775808 }],
  },
};

module.exports = {
  values: {
    Scalars: { requests: scalars, replies: scalars },
    Optional: { requests: optional, replies: optional },
    Enums: { requests: enums, replies: enums },
    Tree: { requests: tree, replies: tree },
    Collections: {
      // protobuf.js writes the keys of a map<bool, V> from the strings of
      // an object's keys: "false" goes out as true. Send only true.
      requests: { ...collections, full: { ...collections.full, map_bi: { true: '1' } } },
      replies: collections,
      fix: (r) => ({ ...r, map_ui: fix64BitKeys(r.map_ui, true) }),
    },
    Times: { requests: times, replies: times },
    Generic: {
      requests: { empty: {}, two: { items: [{ name: 'a', n: 1 }, { name: 'b', n: 2 }], next: 'page 2' } },
      replies: { empty: {}, two: { items: ['x', 'y'], next: 'page 3' } },
    },
    Length: {
      requests: { empty: { s: '' }, unicode: { s: 'héllo 🌍' }, long: { s: 'long '.repeat(1000) } },
      replies: { zero: {}, max: { value: '9223372036854775807' }, min: { value: '-9223372036854775808' } },
    },
    Blob: {
      requests: { empty: {}, all: { b: allBytes } },
      replies: { empty: {}, all: { value: allBytes } },
    },
    Shade: {
      requests: { zero: { c: 0 }, blue: { c: 3 }, unknown: { c: 77 } },
      replies: { zero: {}, blue: { value: 3 }, unknown: { value: 77 } },
    },
    List: {
      requests: { empty: {}, three: { items: [{ name: 'a', n: 1 }, {}, { name: 'c', n: -2147483648 }] } },
      replies: { empty: {}, three: { value: [{ name: 'a', n: 1 }, {}, { name: 'c', n: -2147483648 }] } },
    },
    Several: {
      requests: { zero: {}, set: { a: 'a', b: -2, c: ['c', ''] } },
      replies: { zero: {}, set: { x: true, y: -0.5 } },
    },
    Ping: { requests: { none: {} }, replies: { none: {} } },
  },
  errors: [
    {
      method: 'Fail', name: 'invalid_argument with violations', request: { code: 'invalid_argument', violations: 2 },
      code: 3, message: 'failed with invalid_argument',
      violations: [
        { field: 'items[0].name', description: 'violation 0: ünïcode' },
        { field: 'items[1].name', description: 'violation 1: ünïcode' },
      ],
    },
    { method: 'Fail', name: 'not_found', request: { code: 'not_found' }, code: 5, message: 'failed with not_found' },
    { method: 'Fail', name: 'unauthenticated', request: { code: 'unauthenticated' }, code: 16, message: 'failed with unauthenticated' },
    { method: 'Fail', name: 'resource_exhausted', request: { code: 'resource_exhausted' }, code: 8, message: 'failed with resource_exhausted' },
    { method: 'Fail', name: 'unavailable', request: { code: 'unavailable' }, code: 14, message: 'failed with unavailable' },
  ],
};
