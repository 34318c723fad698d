// The values of the extra.Extra service as a JavaScript protobuf client
// writes and reads them; extra_test.go holds them in Go.
'use strict';

const { ABSENT } = require('./compare');

const epoch = { seconds: '0', nanos: 0 };

module.exports = {
  values: {
    EchoTime: {
      requests: { zero: { t: ABSENT }, epoch: { t: epoch }, set: { t: { seconds: '1709251199', nanos: 999999999 } } },
      replies: { zero: { value: ABSENT }, epoch: { value: epoch }, set: { value: { seconds: '1709251199', nanos: 999999999 } } },
    },
    EchoTimePtr: {
      requests: { nil: { t: ABSENT }, epoch: { t: epoch }, set: { t: { seconds: '-14182940', nanos: 0 } } },
      replies: { nil: { value: ABSENT }, epoch: { value: epoch }, set: { value: { seconds: '-14182940', nanos: 0 } } },
    },
    EchoDuration: {
      requests: { zero: {}, negative: { d: { seconds: '-1', nanos: -500000000 } }, max: { d: { seconds: '9223372036', nanos: 854775807 } } },
      replies: { zero: {}, negative: { value: { seconds: '-1', nanos: -500000000 } }, max: { value: { seconds: '9223372036', nanos: 854775807 } } },
    },
    Addrs: {
      requests: {
        zero: { opt: ABSENT },
        set: { addr: '192.0.2.1', prefix: '198.51.100.0/24', addrs: ['::1', '2001:db8::1', '10.0.0.1'], opt: 'fe80::1%eth0' },
      },
      replies: {
        zero: { opt: ABSENT },
        set: { addr: '192.0.2.1', prefix: '198.51.100.0/24', addrs: ['::1', '2001:db8::1', '10.0.0.1'], opt: 'fe80::1%eth0' },
      },
    },
    Lookup: {
      requests: { zero: {}, v6: { addr: '2001:db8::1' } },
      replies: { zero: {}, v6: { value: '2001:db8::1' } },
    },
    Embedded: {
      requests: { zero: {}, set: { id: 'b1', seq: '-5', extra: 'x' } },
      replies: { zero: {}, set: { id: 'b1', seq: '-5', extra: 'x' } },
    },
    Charge: {
      requests: { zero: {}, card: { card: '4242 4242' } },
      replies: { zero: {}, paid: { amount: '1999' } },
    },
  },
  errors: [
    // A string that is not an address is a bad request, not a zero
    // address.
    { method: 'Lookup', name: 'not an address', request: { addr: '999.0.0.1' }, code: 3 },
  ],
};
