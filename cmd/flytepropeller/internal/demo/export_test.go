package demo

// PropellerConfigYAML exposes the demo's propeller config to tests.
func PropellerConfigYAML(dir string) (string, error) {
	return writePropellerConfig(dir, propellerSettings{
		Kubeconfig:         "/dev/null",
		Namespace:          "flytedist-demo",
		BlobDir:            dir,
		EventAddr:          "127.0.0.1:1",
		ProfilerPort:       10254,
		DatabricksInstance: "127.0.0.1:8443",
	})
}
