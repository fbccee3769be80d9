package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/schemas"
)

// Media types the predict routes read.
const (
	mediaJSON   = "application/json"
	mediaForm   = "application/x-www-form-urlencoded"
	mediaNDJSON = "application/x-ndjson"
)

// work is one request's reusable memory: the body, the answer and the
// classifier's scratch space, pooled so a prediction allocates little.
type work struct {
	body    []byte
	out     []byte
	scratch classifier.Scratch
	pred    classifier.Prediction
}

type bufPool struct{ p sync.Pool }

func (b *bufPool) get() *work {
	if w, ok := b.p.Get().(*work); ok {
		return w
	}
	return &work{body: make([]byte, 0, 4096), out: make([]byte, 0, 1024)}
}

// put keeps buffers of ordinary size; one huge batch should not pin its
// megabytes in the pool.
func (b *bufPool) put(w *work) {
	if cap(w.body) > 256<<10 || cap(w.out) > 256<<10 {
		return
	}
	b.p.Put(w)
}

// modelCache holds the JSON of the model in use, rebuilt when it changes.
type modelCache struct{ p atomic.Pointer[modelJSON] }

type modelJSON struct {
	m       *classifier.Model
	classes []string
	ref     []byte // `"model":{...}`
}

func (c *modelCache) get(m *classifier.Model) *modelJSON {
	if mj := c.p.Load(); mj != nil && mj.m == m {
		return mj
	}
	meta := m.Metadata()
	ref := []byte(`"model":{"name":`)
	ref = schemas.AppendJSONString(ref, meta.Name)
	ref = append(ref, `,"version":`...)
	ref = schemas.AppendJSONString(ref, meta.Version)
	ref = append(ref, `,"sha256":`...)
	ref = schemas.AppendJSONString(ref, m.SHA256())
	ref = append(ref, '}')
	mj := &modelJSON{m: m, classes: m.Classes(), ref: ref}
	c.p.Store(mj)
	return mj
}

// apiError is a request's failure, for its status and body.
type apiError struct {
	status  int
	code    string
	message string
}

// statusOf maps a decoder's error code to the HTTP status the API states.
func statusOf(code string) int {
	switch code {
	case schemas.CodeInvalidJSON, schemas.CodeInvalidUTF8:
		return http.StatusBadRequest
	case schemas.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}

// readBody reads the body into w.body, up to the limit.
func (a *API) readBody(wk *work, r *http.Request) *apiError {
	limit := a.cfg.MaxBodyBytes
	tooLarge := &apiError{http.StatusRequestEntityTooLarge, "body_too_large", "the body is over " + strconv.FormatInt(limit, 10) + " bytes"}
	if r.ContentLength > limit {
		return tooLarge
	}
	buf := bytes.NewBuffer(wk.body[:0])
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	wk.body = buf.Bytes()
	switch {
	case err != nil:
		// The client went away or stalled past the read timeout; the
		// answer will most likely not reach it, but it is well-formed.
		return &apiError{http.StatusBadRequest, "bad_request", "the body could not be read: " + err.Error()}
	case n > limit:
		return tooLarge
	}
	return nil
}

// mediaType returns the request's media type, lower-cased, without
// parameters; a request without one is taken as JSON.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == mediaJSON {
		return mediaJSON
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// explainParam reads ?explain=.
func explainParam(r *http.Request) (bool, *apiError) {
	if r.URL.RawQuery == "" {
		return false, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, &apiError{http.StatusBadRequest, "bad_request", "the query string is malformed: " + err.Error()}
	}
	v := q.Get("explain")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &apiError{http.StatusBadRequest, "bad_request", "explain must be true or false, not " + strconv.Quote(v)}
	}
	return b, nil
}

// predict serves POST /predict.
func (a *API) predict(w http.ResponseWriter, r *http.Request) {
	model := a.opts.Model()
	wk := a.bufs.get()
	defer a.bufs.put(wk)
	req, aerr := a.readPredict(wk, r)
	if aerr != nil {
		writeError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	explain, aerr := explainParam(r)
	if aerr != nil {
		writeError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	wk.out = append(a.appendPrediction(wk.out[:0], wk, model, &req, explain), '\n')
	writeBody(w, http.StatusOK, wk.out)
}

// readPredict reads /predict's body as JSON or as a form.
func (a *API) readPredict(wk *work, r *http.Request) (schemas.PredictRequest, *apiError) {
	mt := mediaType(r)
	if mt != mediaJSON && mt != mediaForm {
		return schemas.PredictRequest{}, unsupported(mt, "application/json or application/x-www-form-urlencoded")
	}
	if aerr := a.readBody(wk, r); aerr != nil {
		return schemas.PredictRequest{}, aerr
	}
	a.routes["/predict"].metrics.ObserveSize(len(wk.body))
	opt := schemas.DecodeOptions{MaxTextBytes: a.cfg.MaxTextBytes}
	// `curl -d '{"text": ...}'` sends JSON labelled as a form; a form
	// field cannot start with '{', so such a body is read as the JSON it is.
	if mt == mediaForm && !looksLikeJSONObject(wk.body) {
		return a.readForm(wk.body, opt)
	}
	req, err := schemas.DecodePredictRequest(wk.body, opt)
	if err != nil {
		return req, &apiError{statusOf(err.Code), err.Code, err.Message}
	}
	return req, nil
}

func looksLikeJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

func (a *API) readForm(body []byte, opt schemas.DecodeOptions) (schemas.PredictRequest, *apiError) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return schemas.PredictRequest{}, &apiError{http.StatusBadRequest, "bad_request", "the form is malformed: " + err.Error()}
	}
	if _, ok := q["text"]; !ok {
		return schemas.PredictRequest{}, &apiError{http.StatusUnprocessableEntity, schemas.CodeMissingField, "text: required field is missing"}
	}
	req := schemas.PredictRequest{Text: q.Get("text"), Title: q.Get("title"), ID: q.Get("id")}
	if e := schemas.CheckText(req.Text, opt); e != nil {
		return req, &apiError{statusOf(e.Code), e.Code, e.Message}
	}
	if e := schemas.CheckTitle(req.Title); e != nil {
		return req, &apiError{statusOf(e.Code), e.Code, e.Message}
	}
	if _, ok := q["id"]; ok {
		if e := schemas.CheckID(req.ID); e != nil {
			return req, &apiError{statusOf(e.Code), e.Code, e.Message}
		}
	}
	return req, nil
}

func unsupported(mt, want string) *apiError {
	return &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type " + mt + " is not supported; use " + want}
}

// appendPrediction classifies req.Text, with req.Title when ClassifyTitle
// is on, and appends the Prediction object.
func (a *API) appendPrediction(dst []byte, wk *work, model *classifier.Model, req *schemas.PredictRequest, explain bool) []byte {
	mj := a.cache.get(model)
	p := &wk.pred
	text := req.Text
	if a.cfg.ClassifyTitle {
		// Without a title Titled returns the text itself: no allocation.
		text = classifier.Titled(req.Title, req.Text)
	}
	var top [][]classifier.Contribution
	if explain {
		e := model.Explain(text, a.cfg.MaxExplain)
		*p, top = e.Prediction, e.Top
	} else {
		model.ClassifyWith(&wk.scratch, p, text)
	}
	a.opts.Predictions.Observe(metrics.SourceHTTP, p.Label, p.Confidence)
	dst = append(dst, '{')
	if req.ID != "" {
		dst = append(dst, `"id":`...)
		dst = schemas.AppendJSONString(dst, req.ID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"label":`...)
	dst = schemas.AppendJSONString(dst, p.Label)
	dst = append(dst, `,"confidence":`...)
	dst = schemas.AppendProbability(dst, p.Confidence)
	dst = append(dst, `,"scores":{`...)
	for i, c := range mj.classes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = schemas.AppendJSONString(dst, c)
		dst = append(dst, ':')
		dst = schemas.AppendProbability(dst, p.Probs[i])
	}
	dst = append(dst, "},"...)
	dst = append(dst, mj.ref...)
	if explain {
		dst = append(dst, `,"explain":{`...)
		for i, c := range mj.classes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = schemas.AppendJSONString(dst, c)
			dst = append(dst, ":["...)
			for j, f := range top[i] {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"feature":`...)
				dst = schemas.AppendJSONString(dst, f.Feature)
				dst = append(dst, `,"weight":`...)
				dst = strconv.AppendFloat(dst, f.Weight, 'g', 6, 64)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// predictBatch serves POST /predict/batch: a JSON array or NDJSON.
func (a *API) predictBatch(w http.ResponseWriter, r *http.Request) {
	model := a.opts.Model()
	wk := a.bufs.get()
	defer a.bufs.put(wk)
	mt := mediaType(r)
	if mt != mediaJSON && mt != mediaNDJSON && mt != mediaForm {
		e := unsupported(mt, "application/json (an array) or application/x-ndjson")
		writeError(w, e.status, e.code, e.message)
		return
	}
	explain, aerr := explainParam(r)
	if aerr == nil {
		aerr = a.readBody(wk, r)
	}
	if aerr != nil {
		writeError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	if mt == mediaForm {
		// As for /predict: `curl -d '[...]'` labels a JSON body as a form.
		if b := bytes.TrimLeft(wk.body, " \t\r\n"); len(b) == 0 || b[0] != '[' {
			e := unsupported(mt, "application/json (an array) or application/x-ndjson")
			writeError(w, e.status, e.code, e.message)
			return
		}
		mt = mediaJSON
	}
	a.routes["/predict/batch"].metrics.ObserveSize(len(wk.body))
	items, aerr := a.splitBatch(wk.body, mt)
	if aerr != nil {
		writeError(w, aerr.status, aerr.code, aerr.message)
		return
	}
	a.opts.Metrics.BatchItems.Observe(float64(len(items)))
	opt := schemas.DecodeOptions{MaxTextBytes: a.cfg.MaxTextBytes}
	out := append(wk.out[:0], `{"results":[`...)
	for i, item := range items {
		if i > 0 {
			out = append(out, ',')
		}
		if item.err != nil {
			out = appendError(out, item.err.Code, item.err.Message)
			continue
		}
		req, derr := schemas.DecodePredictRequest(item.raw, opt)
		if derr != nil {
			out = appendError(out, derr.Code, "item "+strconv.Itoa(i)+": "+derr.Message)
			continue
		}
		out = a.appendPrediction(out, wk, model, &req, explain)
	}
	wk.out = append(out, "]}\n"...)
	writeBody(w, http.StatusOK, wk.out)
}

type batchItem struct {
	raw []byte
	err *schemas.Error
}

// splitBatch cuts the body into its requests, failing as a whole when the
// body cannot be read as a batch or holds more than the limit.
func (a *API) splitBatch(body []byte, mt string) ([]batchItem, *apiError) {
	limit := a.cfg.MaxBatchItems
	tooMany := &apiError{http.StatusRequestEntityTooLarge, "batch_too_large", "a batch holds at most " + strconv.Itoa(limit) + " requests"}
	var items []batchItem
	if mt == mediaJSON {
		var n int
		err := schemas.EachArrayElement(body, func(elem []byte) {
			n++
			if n <= limit {
				items = append(items, batchItem{raw: elem})
			}
		})
		if err != nil {
			return nil, &apiError{statusOf(err.Code), err.Code, err.Message}
		}
		if n > limit {
			return nil, tooMany
		}
		return items, nil
	}
	// NDJSON: one request per line; a bad line is that item's error.
	for len(body) > 0 {
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if len(items) == limit {
			return nil, tooMany
		}
		items = append(items, batchItem{raw: bytes.TrimRight(l, "\r")})
	}
	return items, nil
}

func appendJSONString(dst []byte, s string) []byte { return schemas.AppendJSONString(dst, s) }
