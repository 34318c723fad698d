package wire

// Marshal returns the wire form of l as the generated gRPC codec writes it.
func Marshal(l *UserList) ([]byte, error) { return (&protoWireUserList{v: l}).MarshalProtoWire(nil) }

// Unmarshal reads l from its wire form as the generated gRPC codec does.
func Unmarshal(b []byte, l *UserList) error { return (&protoWireUserList{v: l}).UnmarshalProtoWire(b) }
