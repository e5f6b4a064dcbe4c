"""Kubernetes pods as targets, through the API server's pod proxy (standard library only).

`kubeconfig` finds the cluster and identity as kubectl does, `api` calls the API server
with the project's bounded HttpClient, `pods` turns `k8s://` targets into a proxy base URL
plus a client carrying the credentials, so every collector works on a pod unchanged.
"""
