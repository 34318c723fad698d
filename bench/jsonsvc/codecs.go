package jsonsvc

import "github.com/typedkit/kit/genrt"

// DecodeCreateUserRequest reads a CreateUserRequest with the generated JSON
// reader that the HTTP glue uses, for the benchmarks of the codec alone.
func DecodeCreateUserRequest(data []byte, req *CreateUserRequest) error {
	return genrt.UnmarshalJSON(data, req, jsonReadCreateUserRequest)
}

// EncodeUser writes a User with the generated JSON writer that the HTTP
// glue uses, into w (reset first).
func EncodeUser(w *genrt.JSONWriter, u *User) error {
	w.Reset()
	jsonWriteUser(w, u)
	return w.Err()
}
