package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Descriptions of the levels read from the host at each scrape.
var (
	descActivations     = prometheus.NewDesc("wactor_activations", "Live activations.", []string{"type"}, nil)
	descMailbox         = prometheus.NewDesc("wactor_mailbox_messages", "Messages waiting in the mailboxes of the type's live activations.", []string{"type"}, nil)
	descMailboxMax      = prometheus.NewDesc("wactor_mailbox_max_messages", "Messages waiting in the fullest mailbox of the type.", []string{"type"}, nil)
	descGuestMemory     = prometheus.NewDesc("wactor_guest_memory_bytes", "Linear memory the live guests hold or reserved.", nil, nil)
	descGuestBudget     = prometheus.NewDesc("wactor_guest_memory_budget_bytes", "Budget of guest memory (0: none).", nil, nil)
	descOutboxWaiting   = prometheus.NewDesc("wactor_outbox_waiting_messages", "Committed tells waiting for room in their target's mailbox.", nil, nil)
	descRemindersDue    = prometheus.NewDesc("wactor_reminders_due_soon", "Durable reminders due within the next minute, held with an alarm.", nil, nil)
	descDeadLetters     = prometheus.NewDesc("wactor_dead_letters", "Dead letters kept in the store.", nil, nil)
	descDeadLetterBytes = prometheus.NewDesc("wactor_dead_letter_bytes", "Size of the dead letters kept, as counted against the cap.", nil, nil)
	descDeadDropped     = prometheus.NewDesc("wactor_dead_letters_dropped_total", "Dead letters the cap dropped, oldest first, since the store was created.", nil, nil)
)

// levelsCollector reports the host's levels, read at each scrape.
type levelsCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c levelsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActivations, descMailbox, descMailboxMax, descGuestMemory, descGuestBudget,
		descOutboxWaiting, descRemindersDue, descDeadLetters, descDeadLetterBytes, descDeadDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c levelsCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.levels.Load()
	if f == nil {
		return // no host watched yet
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	lv, err := (*f)(ctx)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, t := range lv.Types {
		gauge(descActivations, float64(t.Activations), t.Name)
		gauge(descMailbox, float64(t.Queued), t.Name)
		gauge(descMailboxMax, float64(t.MaxQueued), t.Name)
	}
	gauge(descGuestMemory, float64(lv.GuestMemory))
	gauge(descGuestBudget, float64(lv.GuestMemoryBudget))
	gauge(descOutboxWaiting, float64(lv.OutboxWaiting))
	gauge(descRemindersDue, float64(lv.RemindersDueSoon))
	if err != nil {
		c.m.log.Warn("metrics scrape: the dead letter totals are left out", "err", err)
		return
	}
	gauge(descDeadLetters, float64(lv.DeadLetters.Count))
	gauge(descDeadLetterBytes, float64(lv.DeadLetters.Bytes))
	ch <- prometheus.MustNewConstMetric(descDeadDropped, prometheus.CounterValue, float64(lv.DeadLetters.Dropped))
}
