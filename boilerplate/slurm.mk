# A real single-node Slurm for the tests (internal/slurmenv): Debian 12's
# slurmctld, slurmd, slurmrestd, client commands, MUNGE and an OpenSSH
# server, downloaded with apt-get and unpacked (not installed) by
# hack/slurm/fetch.sh under
# ${XDG_CACHE_HOME:-$HOME/.cache}/flytedist/slurm/debian-<version>-<arch>/root
# (18 MB; ~10-90 s the first time, depending on the load; nothing later).

# The unpacked tree, fetched or not (expanded only where used).
SLURM_ROOT = $(shell bash hack/slurm/fetch.sh --print-root)

# Environment for a test command that must run the Slurm tests: point them at
# the unpacked tree, turn "not fetched" into a failure rather than a skip, and
# run the real TIMEOUT case too (Slurm's smallest limit is a minute, so it
# costs 60-90 s).
SLURM_TEST_ENV = FLYTEDIST_SLURM_ROOT=$(SLURM_ROOT) FLYTEDIST_SLURM_REQUIRED=1 FLYTEDIST_SLURM_SLOW=1

.PHONY: slurm-bins
## slurm-bins: fetch and unpack (once per Debian version) Slurm, MUNGE and
## sshd for the tests that start a real Slurm cluster.
slurm-bins:
	bash hack/slurm/fetch.sh
