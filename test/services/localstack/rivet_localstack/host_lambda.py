"""Lambda execution environments as host Node.js processes (LAMBDA_RUNTIME_EXECUTOR=rivet_host).

LocalStack's only shipped executor starts a Docker container per environment; the test
machines have no Docker engine. This executor starts, per environment, one `node` process
running runtime.mjs, which speaks the same protocol as LocalStack's in-container init:

  - it listens on 127.0.0.1:<port> for `POST /invoke` ({invoke-id, payload, ...});
  - it posts `status/<id>/ready` (or `status/<id>/error`) once the handler module is loaded,
    and `invocations/<req>/logs` then `invocations/<req>/response` or `.../error` per call.

The function code is unzipped by LocalStack on the host; the process sees it at /var/task
(where deployed code and its environment, e.g. RIVET_CONFIG, expect it) through a private
mount namespace (`unshare --mount`), which also gives it a private /tmp like a real sandbox.

Settings (environment of the LocalStack process):
  RIVET_LS_NODE         the node binary to run functions with (required; Node 22 for nodejs22.x)
  RIVET_LS_LAMBDA_LOGS  directory for each environment's stdout/stderr (default <tmp>/rivet-ls-lambda)
"""

import json
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

RUNTIME_JS = Path(__file__).with_name("runtime.mjs")
STARTUP_TIMEOUT_S = 60

# Runs as the first program inside the new mount namespace, then becomes node.
NAMESPACE_SETUP = """
set -e
mkdir -p /var/task
mount --bind "$1" /var/task
if [ "$4" = 1 ]; then mount -t tmpfs -o size=512m,mode=1777 rivet-lambda-tmp /tmp; fi
cd /var/task
exec "$2" "$3"
"""


def _node() -> str:
    node = os.environ.get("RIVET_LS_NODE", "")
    if not node or not os.access(node, os.X_OK):
        raise LambdaRuntimeException(f"RIVET_LS_NODE must name a node binary (got {node!r})")
    return node


def _under_tmp(path: str) -> bool:
    # The private /tmp would hide a node binary or runtime installed below the host's /tmp.
    return os.path.realpath(path).startswith("/tmp/")


class HostNodeRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1", container_port=self.port)
        self.process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.stopping = False
        self.lock = threading.Lock()
        self.pending_id = ""
        logs_dir = Path(os.environ.get("RIVET_LS_LAMBDA_LOGS") or Path(tempfile.gettempdir()) / "rivet-ls-lambda")
        logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = logs_dir / f"{function_version.id.function_name}-{self.id}.log"

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = self.function_version.config.runtime or ""
        if not runtime.startswith("nodejs"):
            raise LambdaRuntimeException(f"the rivet_host executor runs Node.js functions only, not {runtime!r}")
        self.env = {k: str(v) for k, v in env_vars.items()}
        self.endpoint.start()
        self._spawn()
        self.endpoint.wait_for_startup()

    def _spawn(self) -> None:
        node = _node()
        code = str(self.function_version.config.code.get_unzipped_code_location())
        private_tmp = "0" if _under_tmp(node) or _under_tmp(str(RUNTIME_JS)) else "1"
        env = {
            **self.env,
            "PATH": f"{os.path.dirname(node)}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "RIVET_LS_INVOKE_PORT": str(self.port),
        }
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare.append("--map-root-user")
        argv = [*unshare, "--", "/bin/sh", "-c", NAMESPACE_SETUP, "sh", code, node, str(RUNTIME_JS), private_tmp]
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S')} port {self.port}\n".encode())
            log.flush()
            # Same process group as LocalStack: stopping LocalStack's group ends every function too.
            self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        threading.Thread(target=self._watch, args=(self.process,), daemon=True, name=f"rivet-lambda-{self.id}").start()

    def _watch(self, process: subprocess.Popen) -> None:
        """A process that dies (killed, timed out, crashed) fails the call in flight, and is
        started again for the next call, as Lambda re-initializes a sandbox after such an exit."""
        code = process.wait()
        with self.lock:
            if self.stopping or process is not self.process:
                return
            pending = self.endpoint.invocation_future
            if pending is not None and not pending.done():
                error = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {self.pending_id} Error: Runtime exited with error: {_describe_exit(code)}"}
                pending.set_result(InvocationResult(self.pending_id, json.dumps(error).encode(), is_error=True, logs=self.get_logs()))
            LOG.info("Lambda environment %s exited (%s); starting it again", self.id, _describe_exit(code))
            self.endpoint.startup_future = Future()
            self._spawn()

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            process = self.process
        # unshare and sh exec into node: the pid is the function's process itself.
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
        try:
            self.endpoint.shutdown()
        except Exception as e:  # the endpoint may never have been registered
            LOG.debug("Stopping the endpoint of %s: %s", self.id, e)

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{self.endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        # After a restart, the next call waits until the new process is ready.
        self.endpoint.startup_future.result(timeout=STARTUP_TIMEOUT_S)
        self.pending_id = payload.get("invoke-id", "")
        return self.endpoint.invoke(payload)

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-64_000:]
        except OSError:
            return ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            _node()
        except LambdaRuntimeException as e:
            LOG.warning("%s", e)
            return False
        return True


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
    return f"exit status {code}"


class HostNodeExecutorPlugin(RuntimeExecutorPlugin):
    name = "rivet_host"

    def load(self, *args, **kwargs):
        return HostNodeRuntimeExecutor
