"""The official Python client (Debian's python3-kubernetes) against kubelab, for test/python.test.ts.

usage: client.py KUBECONFIG NAMESPACE exec POD      -> {"stdout": ..., "returncode": ...} for `sh -c 'echo hi; echo oops >&2; exit 3'` and `echo hi`
       client.py KUBECONFIG NAMESPACE watch NAME    -> {"events": [[type, name], ...]} of a watch from the list's resourceVersion
       client.py KUBECONFIG NAMESPACE portforward POD -> {"response": ...} of GET / on the pod's port 8080
Prints one JSON object on stdout.
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.stream import portforward, stream


def run_exec(v1, ns, pod):
    # The repro, verbatim.
    hi = stream(v1.connect_get_namespaced_pod_exec, pod, ns, command=["echo", "hi"],
                stdout=True, stderr=True, stdin=False, tty=False)
    # The same call without preloading: stdout/stderr apart and the exit code from the error channel.
    resp = stream(v1.connect_get_namespaced_pod_exec, pod, ns,
                  command=["sh", "-c", "echo out; echo err >&2; exit 3"],
                  stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=20)
    return {"hi": hi, "stdout": resp.read_stdout(), "stderr": resp.read_stderr(), "returncode": resp.returncode}


def run_watch(v1, ns, name):
    rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    v1.create_namespaced_config_map(ns, {"metadata": {"name": name}, "data": {"k": "v"}})
    events = []
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=15):
        events.append([ev["type"], ev["object"].metadata.name])
        w.stop()
    return {"events": events}


def run_portforward(v1, ns, pod):
    pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, ns, ports="8080")
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.0\r\nHost: web\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return {"response": data.decode(), "error": pf.error(8080)}


def main():
    kubeconfig, ns, mode, arg = sys.argv[1:5]
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    out = {"exec": run_exec, "watch": run_watch, "portforward": run_portforward}[mode](v1, ns, arg)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
