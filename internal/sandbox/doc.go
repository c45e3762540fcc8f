// Package sandbox is a sandbox Perkville v2 API: a real HTTP server on
// loopback that follows docs/perkville-api.md, as net/http/httptest serves
// net/http. It is what the demo runs against and what every test uses, so it
// validates as the real API is documented to, not as would be convenient;
// its Faults and world settings play the misbehaving and hostile servers.
package sandbox
