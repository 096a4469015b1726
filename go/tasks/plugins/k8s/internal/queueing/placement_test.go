package queueing_test

import (
	"strings"
	"testing"

	"github.com/flytedist/flyteplugins/go/tasks/plugins/k8s/internal/queueing"
)

func TestResolve(t *testing.T) {
	task := queueing.Task{Project: "ml", Domain: "production", Namespace: "ml-production", TaskType: "pytorch"}
	overrides := []queueing.Override{
		{Project: "ml", Queue: "ml-queue"},
		{Project: "ml", TaskType: "pytorch", Queue: "gpu-queue", PriorityClass: "gpu-high"},
		{Project: "ml", TaskType: "pytorch", Queue: "later-equally-specific"},
		{Namespace: "other", Queue: "other-queue"},
		{Domain: "production", PriorityClass: "prod"},
	}
	withLabels := func(ls ...map[string]string) queueing.Task { t := task; t.Labels = ls; return t }
	for _, tc := range []struct {
		name      string
		cfg       queueing.Config
		task      queueing.Task
		want      queueing.Placement
		wantQueue bool
		wantErr   string
	}{
		{name: "no provider", cfg: queueing.Config{Queue: "q"}, task: task, want: queueing.Placement{Provider: queueing.None}},
		{name: "none", cfg: queueing.Config{Provider: queueing.None, Queue: "q"}, task: task, want: queueing.Placement{Provider: queueing.None}},
		{name: "unknown provider", cfg: queueing.Config{Provider: "slurm"}, task: task, wantErr: `plugins.queueing.provider "slurm" is not one of`},
		{name: "default queue", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team", PriorityClass: "low"}, task: task,
			want: queueing.Placement{Provider: queueing.Kueue, Queue: "team", PriorityClass: "low", QueueFrom: "default"}, wantQueue: true},
		{name: "kueue without a queue is not queued", cfg: queueing.Config{Provider: queueing.Kueue}, task: task,
			want: queueing.Placement{Provider: queueing.Kueue}},
		{name: "most specific override wins, first of equals", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team", Overrides: overrides}, task: task,
			want: queueing.Placement{Provider: queueing.Kueue, Queue: "gpu-queue", PriorityClass: "gpu-high", QueueFrom: "override"}, wantQueue: true},
		{name: "override for another task type", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team", PriorityClass: "low", Overrides: overrides},
			task: queueing.Task{Project: "ml", Domain: "development", Namespace: "ml-development", TaskType: "spark"},
			want: queueing.Placement{Provider: queueing.Kueue, Queue: "ml-queue", PriorityClass: "low", QueueFrom: "override"}, wantQueue: true},
		{name: "no override matches", cfg: queueing.Config{Provider: queueing.Volcano, Queue: "team", Overrides: overrides},
			task: queueing.Task{Project: "web", Domain: "development", Namespace: "web-development", TaskType: "spark"},
			want: queueing.Placement{Provider: queueing.Volcano, Queue: "team", QueueFrom: "default"}, wantQueue: true},
		{name: "execution label wins over config", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team", Overrides: overrides},
			task: withLabels(map[string]string{queueing.KueueQueueLabel: "by-hand", queueing.KueuePriorityClassLabel: "urgent"}, map[string]string{queueing.KueueQueueLabel: "from-template"}),
			want: queueing.Placement{Provider: queueing.Kueue, Queue: "by-hand", PriorityClass: "urgent", QueueFrom: "label"}, wantQueue: true},
		{name: "template label when the execution has none", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team"},
			task: withLabels(nil, map[string]string{queueing.KueueQueueLabel: "from-template"}),
			want: queueing.Placement{Provider: queueing.Kueue, Queue: "from-template", QueueFrom: "label"}, wantQueue: true},
		{name: "volcano reads volcano's label, not kueue's", cfg: queueing.Config{Provider: queueing.Volcano, Queue: "team"},
			task: withLabels(map[string]string{queueing.KueueQueueLabel: "k", queueing.VolcanoQueueLabel: "v"}),
			want: queueing.Placement{Provider: queueing.Volcano, Queue: "v", QueueFrom: "label"}, wantQueue: true},
		{name: "yunikorn label", cfg: queueing.Config{Provider: queueing.Yunikorn},
			task: withLabels(map[string]string{queueing.YunikornQueueLabel: "root.ml"}),
			want: queueing.Placement{Provider: queueing.Yunikorn, Queue: "root.ml", QueueFrom: "label"}, wantQueue: true},
		{name: "queue that cannot be a label", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "team a"}, task: task,
			wantErr: `queue "team a" (from default) cannot be a label value`},
		{name: "priority class that cannot be a label", cfg: queueing.Config{Provider: queueing.Kueue, Queue: "q", PriorityClass: strings.Repeat("p", 64)}, task: task,
			wantErr: "cannot be a label value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := queueing.Resolve(&tc.cfg, tc.task)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("placement %+v, want %+v", got, tc.want)
			}
			if got.Queued() != tc.wantQueue {
				t.Fatalf("Queued() = %v, want %v", got.Queued(), tc.wantQueue)
			}
		})
	}
}
