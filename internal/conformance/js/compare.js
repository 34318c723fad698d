// Field-by-field comparison of what a client decoded with what it wants.
'use strict';

// ABSENT in a wanted value: the field must not be there (a nil pointer, an
// unset optional field). In a request value: the field is not sent.
const ABSENT = Symbol('absent');

// isZero reports a protobuf default: what a field that is not on the wire
// decodes to.
function isZero(v) {
  if (v === undefined || v === null || v === 0 || v === '' || v === '0' || v === false) return true;
  if (Buffer.isBuffer(v) || Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

function show(v) {
  if (v === ABSENT) return 'absent';
  if (Buffer.isBuffer(v)) return `bytes(${v.toString('hex')})`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 200 ? s.slice(0, 200) + '…' : s;
}

// compare appends to problems every difference between want and got, each
// with its path. A field that want leaves out must be a default value in
// got; a number must be the same number (NaN equals NaN, -0 is not +0).
function compare(want, got, where, problems) {
  if (want === ABSENT) {
    if (got !== undefined && got !== null) problems.push(`${where}: got ${show(got)}, want it absent`);
    return;
  }
  if (want === undefined) {
    if (!isZero(got)) problems.push(`${where}: got ${show(got)}, want the default value`);
    return;
  }
  if (Buffer.isBuffer(want)) {
    if (!Buffer.isBuffer(got) || !want.equals(got)) problems.push(`${where}: got ${show(got)}, want ${show(want)}`);
    return;
  }
  if (typeof want === 'number') {
    if (typeof got !== 'number' || !(Object.is(want, got) || (Number.isNaN(want) && Number.isNaN(got)))) {
      problems.push(`${where}: got ${show(got)}, want ${show(want)}`);
    }
    return;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) {
      problems.push(`${where}: got ${show(got)}, want a list of ${want.length}`);
      return;
    }
    if (got.length !== want.length) problems.push(`${where}: got ${got.length} elements, want ${want.length}`);
    for (let i = 0; i < Math.min(want.length, got.length); i++) compare(want[i], got[i], `${where}[${i}]`, problems);
    return;
  }
  if (typeof want === 'object' && want !== null) {
    if (got === undefined || got === null) {
      if (!isZero(want)) problems.push(`${where}: got ${show(got)}, want ${show(want)}`);
      return;
    }
    if (typeof got !== 'object') {
      problems.push(`${where}: got ${show(got)}, want an object`);
      return;
    }
    const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const k of [...keys].sort()) compare(want[k], got[k], `${where}.${k}`, problems);
    return;
  }
  if (want !== got) problems.push(`${where}: got ${show(got)}, want ${show(want)}`);
}

module.exports = { ABSENT, compare, isZero };
