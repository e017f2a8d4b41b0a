package blueprint

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

// FuzzRenderParameters renders the kitchen-sink blueprint with arbitrary
// strings for its free-text parameter and for the web-service image. A
// value is either refused with an error naming its parameter, or stored
// verbatim as one string in exactly the fields its targets name, with no
// object, key or document added, also after encoding and decoding again.
func FuzzRenderParameters(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Add("plain")
	f.Add("\xff")
	b := sink(f)
	ws, err := builtin(f).Get("web-service")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		out, err := b.Render(context.Background(), with(map[string]any{"text": value}))
		if err != nil {
			errs := field.All(err)
			if len(errs) != 1 || errs[0].Field != "parameters.text" {
				t.Fatalf("render failed without naming parameters.text: %v", err)
			}
			if utf8.ValidString(value) && utf8.RuneCountInString(value) <= 200000 {
				t.Fatalf("valid value %q refused: %v", value, err)
			}
			return
		}
		checkSinkObjects(t, out.Objects, value)
		data, err := manifest.EncodeAll(out.Objects)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := manifest.Decode("rendered.yaml", data)
		if err != nil {
			t.Fatalf("decode rendered YAML: %v", err)
		}
		if len(back) != len(out.Objects) {
			t.Fatalf("encoded YAML holds %d objects, want %d", len(back), len(out.Objects))
		}

		in := examples["web-service"]
		in.Parameters = map[string]any{"image": value}
		wout, err := ws.Render(context.Background(), in)
		if err != nil {
			if errs := field.All(err); len(errs) != 1 || errs[0].Field != "parameters.image" {
				t.Fatalf("web-service render failed without naming parameters.image: %v", err)
			}
			return
		}
		if len(wout.Objects) != 4 {
			t.Fatalf("web-service gave %d objects, want 4", len(wout.Objects))
		}
		img, _ := manifest.Lookup(wout.Objects[0].Content, "spec", "template", "spec", "containers")
		if got := img.([]any)[0].(map[string]any)["image"]; got != value {
			t.Fatalf("image = %q, want %q", got, value)
		}
	})
}
