package cost

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/cron"
)

// HoursPerMonth is the number of hours a month has in every estimate
// (365 days × 24 hours / 12).
const HoursPerMonth = cron.HoursPerMonth

// Prices are hourly prices in Currency.
type Prices struct {
	// Currency is an ISO 4217 code such as USD.
	Currency string
	// CPU is the price of one CPU core for one hour.
	CPU float64
	// RAMGiB is the price of one GiB (2^30 bytes) of memory for one hour.
	RAMGiB float64
	// GPU is the price of one GPU for one hour.
	GPU float64
	// StorageGB is the price of one GB (10^9 bytes) of persistent storage
	// for one hour.
	StorageGB float64
	// LoadBalancer is the price of one load balancer for one hour.
	LoadBalancer float64
	// SpotCPU is the price of one CPU core on spot capacity for one hour.
	SpotCPU float64
	// SpotRAMGiB is the price of one GiB of memory on spot capacity for one
	// hour.
	SpotRAMGiB float64
}

// DefaultPrices returns OpenCost's published default prices for on-premises
// clusters, in US dollars per hour, with a load balancer at 0.025.
func DefaultPrices() Prices {
	return Prices{
		Currency:     "USD",
		CPU:          0.031611,
		RAMGiB:       0.004237,
		GPU:          0.95,
		StorageGB:    0.00005479452,
		LoadBalancer: 0.025,
		SpotCPU:      0.006655,
		SpotRAMGiB:   0.000892,
	}
}

// With returns p with every price that o sets replaced; fields o leaves
// unset (nil, or an empty currency) keep p's value.
func (p Prices) With(o config.Prices) Prices {
	if o.Currency != "" {
		p.Currency = o.Currency
	}
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.CPU, o.CPU)
	set(&p.RAMGiB, o.RAMGiB)
	set(&p.GPU, o.GPU)
	set(&p.StorageGB, o.StorageGB)
	set(&p.LoadBalancer, o.LoadBalancer)
	set(&p.SpotCPU, o.SpotCPU)
	set(&p.SpotRAMGiB, o.SpotRAMGiB)
	return p
}

// Validate reports every price that is negative or not a finite number and a
// currency that is not three upper-case letters, each naming its field.
func (p Prices) Validate() error {
	var errs []error
	if !isCurrencyCode(p.Currency) {
		errs = append(errs, fmt.Errorf("currency: must be a three-letter ISO 4217 code in upper case such as USD or EUR, got %q", p.Currency))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"cpu", p.CPU}, {"ramGiB", p.RAMGiB}, {"gpu", p.GPU}, {"storageGB", p.StorageGB},
		{"loadBalancer", p.LoadBalancer}, {"spotCPU", p.SpotCPU}, {"spotRAMGiB", p.SpotRAMGiB},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: must be a finite price of 0 or more per hour, got %v", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// RepoPrices returns the prices of each environment of r: the defaults with
// the environment's overrides applied. An environment r does not define gets
// the defaults, and so does every environment when r is nil.
func RepoPrices(r *config.Repo) func(environment string) Prices {
	byEnv := map[string]Prices{}
	if r != nil {
		for _, e := range r.Environments {
			byEnv[e.Name] = DefaultPrices().With(e.Prices)
		}
	}
	return func(environment string) Prices {
		if p, ok := byEnv[environment]; ok {
			return p
		}
		return DefaultPrices()
	}
}

// FormatMoney formats v rounded to cents: "$104.20" for USD, "€3.00" for
// EUR and "104.20 CHF" for any other currency ("104.20" when currency is
// empty). Negative amounts get a leading minus sign ("-$3.00"); an amount
// that rounds to zero never does.
func FormatMoney(currency string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64) + " " + currency
	}
	cents := math.Round(math.Abs(v) * 100)
	sign := ""
	if v < 0 && cents != 0 {
		sign = "-"
	}
	amount := strconv.FormatFloat(cents/100, 'f', 2, 64)
	switch currency {
	case "USD":
		return sign + "$" + amount
	case "EUR":
		return sign + "€" + amount
	case "":
		return sign + amount
	}
	return sign + amount + " " + currency
}
