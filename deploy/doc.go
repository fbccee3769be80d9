// Package deploy holds no code: its tests check the deployment files of the
// repository (the Kustomize base and overlays under k8s/, the Prometheus
// and Grafana files, ../docker-compose.yml and ../Dockerfile) against the
// binary they deploy and the upstream API types.
//
// It is a Go module of its own, so the Kubernetes and Kustomize
// dependencies of these tests stay out of the product's go.mod. Run
//
//	cd deploy && go test ./...
package deploy
