package keyauthority

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// Keys is what the authority asks for keys: a credential store.
type Keys interface {
	sigv4.PublicKeySource
}

var _ Keys = (*credstore.Store)(nil)

// Server is the key authority's http.Handler. Serve it with TLS that
// requires and verifies client certificates of the authority's CA (see
// ServerTLS): a request's grant is its certificate's common name.
type Server struct {
	Keys Keys
	// Store, if set, lets an admin grant manage keys (sigv4 keys
	// --authority); usually the same credential store as Keys.
	Store       *credstore.Store
	Grants      *Grants
	Revocations Revocations
	// Audit receives one line per key handed out or refused: who asked,
	// for which access key and scope, and the answer. It holds no key.
	Audit *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// KeepAlive is how often the revocation stream sends a comment to a
	// verifier that has nothing new (default 10 s).
	KeepAlive time.Duration
}

// Handler returns the authority's API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathSigningKey, s.withGrant(s.signingKey))
	mux.HandleFunc("POST "+PathPublicKey, s.withGrant(s.publicKey))
	mux.HandleFunc("GET "+PathRevocations, s.withGrant(s.revocations))
	mux.HandleFunc("POST "+PathRevocations, s.withGrant(s.revoke))
	mux.HandleFunc("POST "+PathAdminKeys, s.withGrant(s.admin))
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) audit() *slog.Logger {
	if s.Audit != nil {
		return s.Audit
	}
	return slog.Default()
}

// withGrant finds the grant of the client certificate, or refuses.
func (s *Server) withGrant(h func(http.ResponseWriter, *http.Request, Grant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			writeError(w, http.StatusUnauthorized, codeNotGranted, "a client certificate of the authority's CA is required")
			return
		}
		name := r.TLS.VerifiedChains[0][0].Subject.CommonName
		g, ok := s.Grants.Get(name)
		if !ok {
			s.audit().Warn("refused", "client", name, "op", r.URL.Path, "why", "no grant")
			writeError(w, http.StatusForbidden, codeNotGranted, "no grant for "+name)
			return
		}
		h(w, r, g)
	}
}

// window reports whether date is yesterday, today or tomorrow (UTC).
func (s *Server) window(d string) bool {
	now := s.now()
	return d == date(now.Add(-24*time.Hour)) || d == date(now) || d == date(now.Add(24*time.Hour))
}

func (s *Server) signingKey(w http.ResponseWriter, r *http.Request, g Grant) {
	var req signingKeyRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || req.AccessKeyID == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "want {access_key_id, date, region, service}")
		return
	}
	scope := sigv4.Scope{Date: req.Date, Region: req.Region, Service: req.Service}
	log := s.audit().With("client", g.Name, "op", "signing-key", "access_key_id", req.AccessKeyID, "scope", scope.String())
	switch {
	case !g.Allows(scope):
		log.Warn("refused", "why", "outside the grant")
		writeError(w, http.StatusForbidden, codeNotGranted, fmt.Sprintf("%s may not ask for %s/%s", g.Name, req.Region, req.Service))
		return
	case !s.window(req.Date):
		log.Warn("refused", "why", "date out of window")
		writeError(w, http.StatusBadRequest, codeBadDate, "only yesterday's, today's and tomorrow's keys are served")
		return
	}
	if rv, ok := s.Revocations.Covering(req.AccessKeyID, scope); ok {
		log.Info("refused", "why", "revoked", "revocation", rv.Seq)
		writeError(w, http.StatusForbidden, codeRevoked, "revoked for this scope")
		return
	}
	key, id, err := s.Keys.SigningKey(r.Context(), req.AccessKeyID, scope)
	if !s.answerKeyError(w, log, err) {
		return
	}
	until, _ := dayEnd(req.Date)
	log.Info("granted")
	writeJSON(w, http.StatusOK, keyAnswer{SigningKey: key[:], Identity: fromIdentity(id), ValidUntil: until})
}

// answerKeyError answers a failure of the key store, and reports whether
// there was none.
func (s *Server) answerKeyError(w http.ResponseWriter, log *slog.Logger, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, sigv4.ErrInvalidAccessKeyID):
		log.Info("refused", "why", "unknown or unusable key")
		writeError(w, http.StatusNotFound, codeUnknownKey, "no such access key, or not usable")
	default:
		log.Error("failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the key store failed")
	}
	return false
}

func (s *Server) publicKey(w http.ResponseWriter, r *http.Request, g Grant) {
	var req signingKeyRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || req.AccessKeyID == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "want {access_key_id}")
		return
	}
	log := s.audit().With("client", g.Name, "op", "public-key", "access_key_id", req.AccessKeyID)
	// A SigV4a signature names no single region: the key is refused if a
	// revocation covers any region and service of the grant today.
	today := date(s.now())
	for _, region := range g.Regions {
		for _, service := range g.Services {
			if rv, ok := s.Revocations.Covering(req.AccessKeyID, sigv4.Scope{Date: today, Region: region, Service: service}); ok {
				log.Info("refused", "why", "revoked", "revocation", rv.Seq)
				writeError(w, http.StatusForbidden, codeRevoked, "revoked for this verifier's scope")
				return
			}
		}
	}
	pub, id, err := s.Keys.PublicKey(r.Context(), req.AccessKeyID)
	if !s.answerKeyError(w, log, err) {
		return
	}
	point, err := pub.Bytes()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "bad public key")
		return
	}
	until, _ := dayEnd(today)
	log.Info("granted")
	writeJSON(w, http.StatusOK, keyAnswer{PublicKey: point, Identity: fromIdentity(id), ValidUntil: until})
}

// revocations streams the revocation log as server-sent events, from the
// one after Last-Event-ID (or ?since=), and then each one as it is added.
func (s *Server) revocations(w http.ResponseWriter, r *http.Request, g Grant) {
	since, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if v := r.URL.Query().Get("since"); v != "" {
		since, _ = strconv.ParseInt(v, 10, 64)
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, codeUnavailable, "no streaming")
		return
	}
	wake, cancel := s.Revocations.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	keepAlive := time.NewTicker(cmpDuration(s.KeepAlive, 10*time.Second))
	defer keepAlive.Stop()
	for {
		for _, rv := range s.Revocations.Since(since) {
			data, _ := json.Marshal(rv)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: revocation\ndata: %s\n\n", rv.Seq, data); err != nil {
				return
			}
			since = rv.Seq
		}
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}

// revoke adds a revocation; only an admin grant may.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, g Grant) {
	if !g.Admin {
		s.audit().Warn("refused", "client", g.Name, "op", "revoke", "why", "not an admin grant")
		writeError(w, http.StatusForbidden, codeNotGranted, g.Name+" may not revoke")
		return
	}
	var rv Revocation
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&rv); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "want a revocation")
		return
	}
	rv, err := s.Revocations.Add(rv)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	s.audit().Info("revoked", "client", g.Name, "seq", rv.Seq, "access_key_id", rv.AccessKeyID, "region", rv.Region,
		"service", rv.Service, "from", rv.From, "to", rv.To)
	writeJSON(w, http.StatusOK, rv)
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, keyAnswer{Error: &errorJSON{Code: code, Message: msg}})
}
