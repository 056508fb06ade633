"""One MPI world over the pods of a LeaderWorkerSet: how TensorRT-LLM runs one server across nodes on Kubernetes.

TensorRT-LLM starts a multi-node server as one MPI job: ``mpirun`` on node 0 starts every rank,
``trtllm-llmapi-launch`` runs ``trtllm-serve`` on rank 0 and a worker loop on the others
(tensorrt_llm/llmapi/trtllm-llmapi-launch; nvidia.github.io/TensorRT-LLM commands/trtllm-serve, "Multi-node
Serving"). A pod cannot join an MPI job by itself, so the pods are laid out as NVIDIA Dynamo's operator lays
out a multi-node TensorRT-LLM worker on a LeaderWorkerSet (ai-dynamo/dynamo
deploy/operator/internal/dynamo/backend_trtllm.go, lws_deployer.go):

- every worker pod runs an SSH daemon on port ``SSH_PORT`` that accepts one key pair, read from a Secret;
  its readiness is that port (it serves no HTTP), and it has no liveness probe: mpirun's ranks live in it;
- the leader waits until it can reach each worker over SSH, then ``exec``s mpirun with every pod as a host.
  A worker's address is the leader's with ``-<index>`` after its pod name: LeaderWorkerSet names the pods
  ``<set>-<group>`` and ``<set>-<group>-<index>`` in one headless Service (kubernetes-sigs/lws), and gives
  only the leader's address (``LWS_LEADER_ADDRESS``) and the group's size (``LWS_GROUP_SIZE``);
- mpirun is called by its absolute path, which makes Open MPI set its own prefix on the remote nodes
  (mpirun(1), ``--prefix``: a shell started by sshd has not the image's PATH), and forwards the
  environment the ranks need (``-x``).

Both scripts are constants: the server's argv arrives as arguments (``"$@"``) and is never script text.
"""

from __future__ import annotations

SSH_PORT = 2222  # Dynamo's MpiRunSshPort (deploy/operator/internal/consts/consts.go)
SSH_KEYS = "/ssh-pk"  # where the Secret's private.key and private.key.pub are mounted (as Dynamo mounts them)
SSH_WAIT_TRIES = 120  # x 5 s: ten minutes for the workers' pods to be scheduled and their sshd to listen
# What the ranks read from the leader's environment: the image's PATH and libraries (sshd's shell has
# neither), the model cache, and a Hugging Face token when one is set (Dynamo forwards the same).
FORWARDED = ("PATH", "LD_LIBRARY_PATH", "HF_HOME", "HF_TOKEN")

_SSH_ARGS = (f'ssh_args="-p {SSH_PORT} -i $HOME/.ssh/id_rsa -o StrictHostKeyChecking=no -o BatchMode=yes"')


def leader_script(setup: tuple[str, ...]) -> str:
    """The leader's ``sh -c`` script: the client key, each worker reachable over SSH, ``setup`` (constant
    lines of the engine's module), then mpirun over ``GPUS_PER_NODE`` ranks a pod, running ``"$@"``."""
    forward = " ".join(f"-x {name}" for name in FORWARDED)
    return "\n".join((
        "set -e",
        'mkdir -p "$HOME/.ssh"',
        'cp "$SSH_KEYS/private.key" "$HOME/.ssh/id_rsa"',
        'chmod 600 "$HOME/.ssh/id_rsa"',
        _SSH_ARGS,
        'hosts="$LWS_LEADER_ADDRESS:$GPUS_PER_NODE"',
        "i=1",
        'while [ "$i" -lt "$LWS_GROUP_SIZE" ]; do',
        '  worker=$(echo "$LWS_LEADER_ADDRESS" | sed "s/\\./-$i./")',
        "  tries=0",
        '  until ssh $ssh_args "$worker" true; do',
        f'    tries=$((tries + 1)); [ "$tries" -lt {SSH_WAIT_TRIES} ] || exit 1; sleep 5',
        "  done",
        '  hosts="$hosts,$worker:$GPUS_PER_NODE"',
        "  i=$((i + 1))",
        "done",
        *setup,
        'root=""',
        '[ "$(id -u)" != 0 ] || root=--allow-run-as-root',
        'exec "$(command -v mpirun)" $root -H "$hosts" -n "$((LWS_GROUP_SIZE * GPUS_PER_NODE))" '
        f'--mca plm_rsh_args "$ssh_args" {forward} "$@"',
    ))


# A worker: authorize the Secret's public key, make a host key, and run sshd in the foreground on SSH_PORT
# (as root it needs its privilege-separation folder; StrictModes off: the Secret's files are not the user's).
WORKER_SCRIPT = "\n".join((
    "set -e",
    'mkdir -p "$HOME/.ssh"',
    '[ "$(id -u)" != 0 ] || mkdir -p /run/sshd',
    'cp "$SSH_KEYS/private.key.pub" "$HOME/.ssh/authorized_keys"',
    'chmod 700 "$HOME/.ssh"',
    'chmod 600 "$HOME/.ssh/authorized_keys"',
    'rm -f "$HOME/.ssh/host_key" "$HOME/.ssh/host_key.pub"',
    "ssh-keygen -q -t ed25519 -N '' -f \"$HOME/.ssh/host_key\"",
    f"printf 'Port {SSH_PORT}\\nHostKey %s/.ssh/host_key\\nAuthorizedKeysFile %s/.ssh/authorized_keys\\n"
    "PidFile %s/.ssh/sshd.pid\\nPasswordAuthentication no\\nPermitRootLogin prohibit-password\\nStrictModes no\\n' "
    '"$HOME" "$HOME" "$HOME" > "$HOME/.ssh/sshd_config"',
    'exec "$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$HOME/.ssh/sshd_config"',
))


# The Secret holding the key pair: one name for every such group in a namespace (the plan never writes a key).
SECRET = "mpi-ssh-key"
KEY_NOTE = (f"mpirun reaches the worker pods over SSH with the key pair in the Secret {SECRET}: create it once per "
            f"namespace (ssh-keygen -t ed25519 -N '' -f mpi-key && kubectl create secret generic {SECRET} "
            "--from-file=private.key=mpi-key --from-file=private.key.pub=mpi-key.pub); the image must have ssh "
            "and sshd (NVIDIA Dynamo's TensorRT-LLM runtime image has both)")


def pods(server: list[str], setup: tuple[str, ...], gpus_per_node: int) -> dict:
    """The LeaderWorkerSet containers of one MPI job running ``server`` (``$`` already escaped for
    Kubernetes): the leader's mpirun script and argv, the workers' sshd, the key Secret's volume."""
    return {
        "leader": {"command": ["/bin/sh", "-c", leader_script(setup), "sh"], "args": list(server)},
        "worker": {"command": ["/bin/sh", "-c", WORKER_SCRIPT]},
        "env": {"SSH_KEYS": SSH_KEYS},
        "leader_env": {"GPUS_PER_NODE": str(int(gpus_per_node)),
                       # mpirun keeps the pods' full names as given in -H (Dynamo sets the same)
                       "OMPI_MCA_orte_keep_fqdn_hostnames": "1"},
        "worker_readiness": {"tcpSocket": {"port": SSH_PORT}, "periodSeconds": 10, "failureThreshold": 3},
        "volumes": [{"name": "ssh-keys", "secret": {"secretName": SECRET, "defaultMode": 0o644}}],
        "mounts": [{"name": "ssh-keys", "mountPath": SSH_KEYS, "readOnly": True}],
        "note": KEY_NOTE,
    }
