# firelocal's Python runtime loop: the handler and context contract of AWS Lambda's Python
# runtime, over the Lambda Runtime API, with the standard library only.
import importlib
import json
import os
import sys
import time
import traceback
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def _post(path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method="POST", headers=headers or {})
    urllib.request.urlopen(req).read()


def _error(exc, kind=None):
    return {
        "errorMessage": str(exc),
        "errorType": kind or type(exc).__name__,
        "requestId": "",
        # The first frame is this loop calling the handler; AWS shows the handler's frames only.
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]) if exc.__traceback__ else [],
    }


class _Obj:
    """An attribute bag, as the official runtime builds client_context and identity."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class ClientContext:
    def __init__(self, doc):
        self.custom = doc.get("custom")
        self.env = doc.get("env")
        client = doc.get("client")
        self.client = _Obj(
            installation_id=client.get("installation_id"),
            app_title=client.get("app_title"),
            app_version_name=client.get("app_version_name"),
            app_version_code=client.get("app_version_code"),
            app_package_name=client.get("app_package_name"),
        ) if isinstance(client, dict) else None


class CognitoIdentity:
    def __init__(self, doc):
        self.cognito_identity_id = doc.get("cognitoIdentityId")
        self.cognito_identity_pool_id = doc.get("cognitoIdentityPoolId")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _load_handler():
    spec = os.environ["_HANDLER"]
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        raise _InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}") from e
    except Exception as e:  # noqa: BLE001 - any import failure is reported as AWS does
        raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}") from e
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class _InitError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "."))
    try:
        handler = _load_handler()
    except _InitError as e:
        print(f"[ERROR] {e.kind}: {e}", file=sys.stderr, flush=True)
        _post("/init/error", {"errorMessage": str(e), "errorType": e.kind, "requestId": "", "stackTrace": []},
              {"Lambda-Runtime-Function-Error-Type": e.kind})
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as resp:
            request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(resp.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            arn = resp.headers.get("Lambda-Runtime-Invoked-Function-Arn")
            os.environ["_X_AMZN_TRACE_ID"] = resp.headers.get("Lambda-Runtime-Trace-Id", "")
            client_context = resp.headers.get("Lambda-Runtime-Client-Context")
            identity = resp.headers.get("Lambda-Runtime-Cognito-Identity")
            body = resp.read()
        try:
            event = json.loads(body) if body else None
            ctx = LambdaContext(request_id, deadline, arn, ClientContext(json.loads(client_context)) if client_context else None,
                                CognitoIdentity(json.loads(identity)) if identity else None)
            result = handler(event, ctx)
            payload = json.dumps(result).encode()
        except Exception as e:  # noqa: BLE001 - the handler's error goes back to the caller
            err = _error(e)
            err["requestId"] = request_id
            trace = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            print(f"[ERROR] {err['errorType']}: {err['errorMessage']}\n{trace}", end="", file=sys.stderr, flush=True)
            _post(f"/invocation/{request_id}/error", err, {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        _post(f"/invocation/{request_id}/response", payload)


if __name__ == "__main__":
    main()
