package slurmenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// layout is where a cluster's files are.
type layout struct {
	multiarch   string
	root        string // unpacked tree
	bin         string // Dir/bin: the daemons under the names they need
	plugins     string // Dir/plugins: Slurm's plugins, less the PMIx ones
	libPath     string // LD_LIBRARY_PATH for everything unpacked
	mungeDir    string
	mungeSocket string
	mungeKey    string
	sshDir      string
	restAddr    string // slurmrestd's 127.0.0.1:port
}

func (l *layout) sbin(name string) string { return filepath.Join(l.root, "usr/sbin", name) }

// layout writes the cluster's configuration and keys into c.Dir and picks
// its ports.
func (c *Cluster) layout() (*layout, error) {
	ma := multiarch()
	lib := filepath.Join(c.Root, "usr/lib", ma)
	l := &layout{
		multiarch:   ma,
		root:        c.Root,
		bin:         filepath.Join(c.Dir, "bin"),
		plugins:     filepath.Join(c.Dir, "plugins"),
		libPath:     lib + ":" + filepath.Join(lib, "slurm-wlm"),
		mungeDir:    filepath.Join(c.Dir, "munge"),
		mungeSocket: filepath.Join(c.Dir, "munge", "munge.socket"),
		mungeKey:    filepath.Join(c.Dir, "munge", "munge.key"),
		sshDir:      filepath.Join(c.Dir, "ssh"),
	}
	c.Home = filepath.Join(c.Dir, "home")
	c.ConfPath = filepath.Join(c.Dir, "slurm.conf")
	c.JobCompPath = filepath.Join(c.Dir, "jobcomp.txt")
	// 0755 throughout: munged wants its socket directory not writable by
	// others, and nobody (slurmrestd) reads the configuration.
	for _, d := range []string{l.bin, l.plugins, l.mungeDir, l.sshDir, c.Home,
		filepath.Join(c.Dir, "state"), filepath.Join(c.Dir, "spool")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}

	// The Debian packages ship the daemons as slurmctld-wlm, slurmd-wlm and
	// slurmstepd-wlm (alternatives pick the names on install). slurmctld
	// must run as "slurmctld": under its -wlm name auth/jwt never loads.
	for _, name := range []string{"slurmctld", "slurmd", "slurmstepd"} {
		if err := os.Symlink(l.sbin(name+"-wlm"), filepath.Join(l.bin, name)); err != nil {
			return nil, err
		}
	}
	// Every plugin but mpi/pmix*: slurmctld and slurmd load all MPI plugins
	// at start, and those fail loudly without libpmix (not a dependency).
	pluginDir := filepath.Join(lib, "slurm-wlm")
	ents, err := os.ReadDir(pluginDir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".so") || strings.HasPrefix(e.Name(), "mpi_pmix") {
			continue
		}
		if err := os.Symlink(filepath.Join(pluginDir, e.Name()), filepath.Join(l.plugins, e.Name())); err != nil {
			return nil, err
		}
	}

	// munged refuses a key readable by others.
	if err := os.WriteFile(l.mungeKey, randomBytes(128), 0o400); err != nil {
		return nil, err
	}
	c.jwtKey = randomBytes(32)
	jwtKeyPath := filepath.Join(c.Dir, "jwt.key")
	if err := os.WriteFile(jwtKeyPath, c.jwtKey, 0o600); err != nil {
		return nil, err
	}
	plugstack := filepath.Join(c.Dir, "plugstack.conf")
	if err := os.WriteFile(plugstack, nil, 0o644); err != nil {
		return nil, err
	}

	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	c.SSHAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	l.restAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3]))

	conf := fmt.Sprintf(`# Written by internal/slurmenv for one test.
ClusterName=%[1]s
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%[4]s
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=%[5]s
StateSaveLocation=%[6]s/state
SlurmdSpoolDir=%[6]s/spool
SlurmctldPidFile=%[6]s/slurmctld.pid
SlurmdPidFile=%[6]s/slurmd.pid
PluginDir=%[7]s
PlugStackConfig=%[8]s
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=%[9]d
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=%[10]s
SlurmctldDebug=info
SlurmdDebug=info
NodeName=%[11]s NodeHostname=%[11]s NodeAddr=127.0.0.1 CPUs=%[12]d State=UNKNOWN
PartitionName=%[13]s Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, c.ClusterName, ports[0], ports[1], l.mungeSocket, jwtKeyPath, c.Dir, l.plugins, plugstack,
		int(c.MinJobAge.Seconds()), c.JobCompPath, c.NodeName, runtime.NumCPU(), c.Partition)
	if err := os.WriteFile(c.ConfPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return l, nil
}

// writeSSHD writes sshd's configuration, keys and user database.
//
// sshd (OpenSSH 9.2, as root) needs a user named sshd for privilege
// separation and the directory /run/sshd to chroot into. Rather than add a
// user to the system, it runs with nss_wrapper (LD_PRELOAD) and passwd, group
// and shadow files of its own; they also give root a home in Dir and a shell.
// The sessions' environment (PATH with the Slurm commands, LD_LIBRARY_PATH,
// SLURM_CONF) comes from SetEnv; sshd does not pass its LD_PRELOAD on.
func (c *Cluster) writeSSHD(l *layout) error {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return fmt.Errorf("sshd's privilege separation directory: %w", err)
	}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	hostKey := filepath.Join(l.sshDir, "ssh_host_ed25519_key")
	if err := writePrivateKey(hostKey, hostPriv); err != nil {
		return err
	}
	hostPub, err := ssh.NewPublicKey(hostPriv.Public())
	if err != nil {
		return err
	}
	c.SSHHostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub)))

	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "slurmenv client")
	if err != nil {
		return err
	}
	c.SSHClientKeyPEM = pem.EncodeToMemory(block)
	clientPub, err := ssh.NewPublicKey(clientPriv.Public())
	if err != nil {
		return err
	}
	authorized := filepath.Join(l.sshDir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return err
	}

	uid, gid := nobody()
	files := map[string]string{
		"passwd": fmt.Sprintf("root:x:0:0:root:%s:/bin/sh\nsshd:x:%d:%d:sshd privilege separation:/run/sshd:/usr/sbin/nologin\n",
			c.Home, uid, gid),
		"group": fmt.Sprintf("root:x:0:\nnogroup:x:%d:\n", gid),
		// "*": no password, not locked (a "!" would refuse even key logins
		// without PAM).
		"shadow": "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n",
		"sshd_config": fmt.Sprintf(`# Written by internal/slurmenv for one test.
ListenAddress %s
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin LD_LIBRARY_PATH=%s SLURM_CONF=%s
LogLevel VERBOSE
`, c.SSHAddr, hostKey, filepath.Join(l.sshDir, "sshd.pid"), authorized,
			filepath.Join(c.Root, "usr/bin"), l.libPath, c.ConfPath),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(l.sshDir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writePrivateKey writes key in OpenSSH format, readable by root only (sshd
// ignores host keys others can read).
func writePrivateKey(path string, key ed25519.PrivateKey) error {
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := listenLoopback()
		if err != nil {
			return nil, err
		}
		defer func() { _ = ln.Close() }()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
