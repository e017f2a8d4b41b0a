package cost

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
)

func TestDefaultPrices(t *testing.T) {
	want := Prices{
		Currency: "USD", CPU: cpuHour, RAMGiB: ramHour, GPU: gpuHour, StorageGB: storageHour,
		LoadBalancer: lbHour, SpotCPU: spotCPUHour, SpotRAMGiB: spotRAMHour,
	}
	if diff := cmp.Diff(want, DefaultPrices()); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if err := DefaultPrices().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestPricesWith(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		o    config.Prices
		want Prices
	}{
		{name: "nothing set keeps the defaults", want: DefaultPrices()},
		{
			name: "set fields replace, zero included",
			o:    config.Prices{Currency: "EUR", CPU: f(0.04), GPU: f(0), SpotRAMGiB: f(0.001)},
			want: Prices{
				Currency: "EUR", CPU: 0.04, RAMGiB: ramHour, GPU: 0, StorageGB: storageHour,
				LoadBalancer: lbHour, SpotCPU: spotCPUHour, SpotRAMGiB: 0.001,
			},
		},
		{
			name: "every field",
			o: config.Prices{Currency: "CHF", CPU: f(1), RAMGiB: f(2), GPU: f(3), StorageGB: f(4),
				LoadBalancer: f(5), SpotCPU: f(6), SpotRAMGiB: f(7)},
			want: Prices{Currency: "CHF", CPU: 1, RAMGiB: 2, GPU: 3, StorageGB: 4, LoadBalancer: 5, SpotCPU: 6, SpotRAMGiB: 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DefaultPrices().With(tt.o)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPricesValidate(t *testing.T) {
	p := DefaultPrices()
	p.Currency = "usd"
	p.CPU = -1
	p.StorageGB = 1 / zero()
	want := "currency: must be a three-letter ISO 4217 code in upper case such as USD or EUR, got \"usd\"\n" +
		"cpu: must be a finite price of 0 or more per hour, got -1\n" +
		"storageGB: must be a finite price of 0 or more per hour, got +Inf"
	err := p.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// zero hides a zero from constant folding.
func zero() float64 { return 0 }

func TestRepoPrices(t *testing.T) {
	repo, err := config.ParseRepo([]byte(`
apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
- name: prod
  prices: {currency: EUR, cpu: 0.05, loadBalancer: 0.02}
`))
	if err != nil {
		t.Fatal(err)
	}
	prices := RepoPrices(repo)
	prod := DefaultPrices()
	prod.Currency, prod.CPU, prod.LoadBalancer = "EUR", 0.05, 0.02
	for env, want := range map[string]Prices{"dev": DefaultPrices(), "prod": prod, "unknown": DefaultPrices()} {
		t.Run(env, func(t *testing.T) {
			if diff := cmp.Diff(want, prices(env)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		currency string
		v        float64
		want     string
	}{
		{"USD", 104.2, "$104.20"},
		{"USD", 43.893075, "$43.89"},
		{"USD", 3.99999996, "$4.00"},
		{"USD", 1234567.891, "$1234567.89"},
		{"USD", -3, "-$3.00"},
		{"USD", -0.001, "$0.00"},
		{"USD", 0, "$0.00"},
		{"EUR", 3, "€3.00"},
		{"EUR", -24.2, "-€24.20"},
		{"CHF", 104.2, "104.20 CHF"},
		{"GBP", -0.5, "-0.50 GBP"},
		{"", 1.5, "1.50"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatMoney(tt.currency, tt.v); got != tt.want {
				t.Errorf("FormatMoney(%q, %v) = %q, want %q", tt.currency, tt.v, got, tt.want)
			}
		})
	}
}
