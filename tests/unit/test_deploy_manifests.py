"""deploy/compose.yaml and deploy/k8s/: valid against the real schemas (the Compose
Specification and the Kubernetes API's, vendored in tests/data/schemas/, used offline), and right
in what an operator relies on: health checks, database URLs, replicas, selectors, probes, the
topics job and where the workbench finds the five services.

Every check is a function returning the problems it finds; ``test_check_catches`` breaks a copy
of the real files in one way per check (a typo in a selector, a wrong port, ...) and asserts
that the check reports it, so none of them can pass vacuously.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SCHEMAS = ROOT / "tests" / "data" / "schemas"
K8S_SCHEMAS = SCHEMAS / "kubernetes-v1.37.0-local-strict"
# the five services with a database each and Kafka (consumers, producers)
DATA_SERVICES = ("intake", "routing", "supervision", "notify", "reports")
# the staff web UI: no database, no Kafka, only the five's HTTP APIs (and XF_AUTH_SECRET)
WORKBENCH = "workbench"
SERVICES = (*DATA_SERVICES, WORKBENCH)  # every image built and deployed
TOPICS = "topics"  # the one-shot compose service that creates the topics
CONFIG, SECRETS = "xinfang-config", "xinfang-secrets"
LAUNCHER_FILES = ("__init__.py", "broker.py")  # deploy/ files the topics command needs

Doc = dict[str, Any]


# --- the code's own view: variable names, ports, versions, the images' user -----------------


@functools.cache
def settings_class(service: str) -> Any:
    config = importlib.import_module(f"xinfang_{service}.config")
    return next(
        v for k, v in vars(config).items() if k.endswith("Settings") and k != "CommonSettings"
    )


def env_name(service: str, field: str) -> str:
    """The environment variable that sets ``field`` of the service's settings."""
    return str(settings_class(service).model_fields[field].validation_alias)


def default_port(service: str) -> str:
    return str(settings_class(service).model_fields["port"].default)


def has_database(service: str) -> bool:
    return "database_url" in settings_class(service).model_fields


def ready_path(service: str) -> str:
    """The readiness endpoint: /readyz (database and broker reachable) where there are any;
    the workbench has neither, and only /healthz."""
    return "/readyz" if has_database(service) else "/healthz"


def uses_salt(service: str) -> bool:
    fields = settings_class(service).model_fields.values()
    return any(f.validation_alias == "XF_ID_HASH_SALT" for f in fields)


def dockerfile(service: str) -> str:
    return (ROOT / "services" / service / "Dockerfile").read_text()


def image_uid(service: str) -> int:
    match = re.search(r"--uid (\d+)", dockerfile(service))
    assert match, f"services/{service}/Dockerfile creates no user with a fixed uid"
    return int(match.group(1))


def exposed_port(service: str) -> int:
    match = re.search(r"^EXPOSE (\d+)$", dockerfile(service), re.M)
    assert match
    return int(match.group(1))


def image_has_deploy_package(service: str) -> bool:
    return bool(re.search(r"^COPY .*\bdeploy\b", dockerfile(service), re.M))


def version(service: str) -> str:
    text = (ROOT / "services" / service / "pyproject.toml").read_text()
    return str(tomllib.loads(text)["project"]["version"])


# --- loading ---------------------------------------------------------------------------------


@functools.cache
def _compose() -> Doc:
    doc: Doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return doc


@functools.cache
def _kustomization() -> Doc:
    doc: Doc = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return doc


@functools.cache
def _k8s() -> tuple[Doc, ...]:
    objs: list[Doc] = []
    for name in _kustomization()["resources"]:
        objs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return tuple(objs)


def load_compose() -> Doc:
    # through JSON: YAML aliases (depends_on: *xinfang-depends) become separate copies
    doc: Doc = json.loads(json.dumps(_compose()))
    return doc


def load_k8s() -> list[Doc]:
    return copy.deepcopy(list(_k8s()))


# --- schemas ---------------------------------------------------------------------------------


@functools.cache
def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.cache
def k8s_registry() -> Registry:
    defs = json.loads((K8S_SCHEMAS / "_definitions.json").read_text())
    resource = DRAFT202012.create_resource(defs)
    return Registry().with_resource(defs["$id"], resource)


def k8s_schema_path(obj: Doc) -> Path:
    # apps/v1 -> apps-v1, autoscaling/v2 -> autoscaling-v2, v1 -> v1 (kubernetes-validate's names)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", obj["apiVersion"])
    return K8S_SCHEMAS / f"{obj['kind'].lower()}-{group_version}.json"


@functools.cache
def k8s_validator(path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=k8s_registry())


def schema_errors(validator: jsonschema.protocols.Validator, doc: Any, where: str) -> list[str]:
    return [
        f"{where}: /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]


# --- helpers ---------------------------------------------------------------------------------


def name_of(obj: Doc) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def of_kind(objs: list[Doc], kind: str) -> list[Doc]:
    return [o for o in objs if o.get("kind") == kind]


def find(objs: list[Doc], kind: str, name: str) -> Doc | None:
    return next((o for o in of_kind(objs, kind) if o["metadata"].get("name") == name), None)


def selects(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A non-empty equality selector matches the labels."""
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def pod_labels(workload: Doc) -> dict[str, str]:
    return dict(workload["spec"]["template"].get("metadata", {}).get("labels") or {})


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def main_container(deployment: Doc) -> Doc:
    containers = pod_spec(deployment)["containers"]
    name = deployment["metadata"]["name"]
    found: Doc = next((c for c in containers if c["name"] == name), containers[0])
    return found


def all_containers(workload: Doc) -> Iterator[Doc]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers") or []
    yield from spec["containers"]


def config_data(objs: list[Doc], kind: str, name: str) -> dict[str, str]:
    obj = find(objs, kind, name)
    if obj is None:
        return {}
    return {**(obj.get("data") or {}), **(obj.get("stringData") or {})}


def container_env(container: Doc, objs: list[Doc]) -> dict[str, str | None]:
    """The container's environment as the kubelet builds it (None: a reference that resolves
    to nothing); secrets are resolved to their (placeholder) value."""
    env: dict[str, str | None] = {}
    for src in container.get("envFrom") or []:
        if "configMapRef" in src:
            env.update(config_data(objs, "ConfigMap", src["configMapRef"]["name"]))
        if "secretRef" in src:
            env.update(config_data(objs, "Secret", src["secretRef"]["name"]))
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var.get("valueFrom", {})
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if key in ref:
                env[var["name"]] = config_data(objs, kind, ref[key]["name"]).get(ref[key]["key"])
    return env


def command_of(container: Doc, objs: list[Doc]) -> list[str]:
    """command + args with $(VAR) expanded from the container's environment."""
    env = container_env(container, objs)
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    return [
        re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1)) or m.group(0), str(w)) for w in words
    ]


def option(words: list[str], flag: str) -> str | None:
    return words[words.index(flag) + 1] if flag in words[:-1] else None


def resolve_port(container: Doc, port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return int(port) if str(port).isdigit() else None


def words_of(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def truthy(value: str | None) -> bool:
    """Whether a boolean setting (XF_DEMO, ...) is on: pydantic's true values."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on", "t", "y"}


def compose_env(service: Doc) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def published_ports(service: Doc) -> list[tuple[str, str, str]]:
    """(host address, host port, container port) of each published port; "" where unset."""
    found = []
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            found.append((str(p.get("host_ip", "")), str(p.get("published", "")), str(p["target"])))
            continue
        parts = str(p).split(":")
        host = parts[-3] if len(parts) >= 3 else ""
        published = parts[-2] if len(parts) >= 2 else ""
        found.append((host, published, parts[-1]))
    return found


def compose_default(value: str | None) -> str | None:
    """What Compose makes of ``${VAR:-default}`` when VAR is unset (a literal stays itself)."""
    if value is None:
        return None
    match = re.fullmatch(r"\$\{\w+:?-([^}]*)\}", value)
    return match.group(1) if match else value


def calls(service: str) -> str:
    """The workbench's variable naming the address of ``service``."""
    return env_name(WORKBENCH, f"{service}_url")


def called_by_workbench() -> list[str]:
    """The services the workbench calls: those its settings have an address for."""
    fields = settings_class(WORKBENCH).model_fields
    return [svc for svc in DATA_SERVICES if f"{svc}_url" in fields]


# --- checks: Compose -------------------------------------------------------------------------


def check_compose_schema(compose: Doc) -> list[str]:
    return schema_errors(compose_validator(), compose, "deploy/compose.yaml")


def check_compose_images(compose: Doc) -> list[str]:
    """Each service is built from its own Dockerfile into the image the k8s manifests run."""
    problems = []
    for svc in SERVICES:
        service = compose["services"].get(svc)
        if service is None:
            problems.append(f"no {svc} service")
            continue
        if service.get("image") != f"xinfang/{svc}:{version(svc)}":
            problems.append(
                f"{svc}: image {service.get('image')!r}, want xinfang/{svc}:{version(svc)}"
            )
        build = service.get("build") or {}
        if build.get("dockerfile") != f"services/{svc}/Dockerfile" or build.get("context") != "..":
            problems.append(f"{svc}: not built from services/{svc}/Dockerfile: {build}")
    return problems


def check_compose_healthchecks(compose: Doc) -> list[str]:
    problems = []
    for name, svc in compose["services"].items():
        if name == TOPICS:
            continue  # one-shot: it exits, there is nothing to watch
        hc = svc.get("healthcheck") or {}
        if not hc.get("test") or hc.get("disable"):
            problems.append(f"{name}: no healthcheck")
            continue
        if name not in SERVICES:
            continue
        command = " ".join(words_of(hc["test"]))
        if re.search(r"\b(curl|wget)\b", command):
            problems.append(f"{name}: the images have no curl or wget; use python -c urllib")
        url = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)(/\w+)", command)
        if not url:
            problems.append(f"{name}: healthcheck calls no local URL: {command}")
            continue
        env = compose_env(svc)
        port = env.get(env_name(name, "port"), default_port(name))
        if url.group(1) != port or url.group(2) != "/healthz":
            problems.append(
                f"{name}: healthcheck calls :{url.group(1)}{url.group(2)}, not :{port}/healthz"
            )
        targets = {
            str(p["target"]) if isinstance(p, dict) else str(p).rsplit(":", 1)[-1]
            for p in svc.get("ports") or []
        }
        if targets and targets != {port}:
            problems.append(f"{name}: publishes container port {targets}, listens on {port}")
    return problems


def check_compose_databases(compose: Doc) -> list[str]:
    problems = []
    pg = compose["services"].get("postgres") or {}
    pg_env = compose_env(pg)
    user = pg_env.get("POSTGRES_USER", "postgres")
    init_dirs = [
        v.split(":")[0]
        for v in pg.get("volumes") or []
        if isinstance(v, str) and ":/docker-entrypoint-initdb.d" in v
    ]
    created = set()
    for d in init_dirs:
        for sql in sorted((DEPLOY / d).glob("*.sql")):
            created |= set(re.findall(r"CREATE DATABASE (\w+)", sql.read_text(), re.I))
    if not init_dirs:
        problems.append("postgres: no init script mounted at /docker-entrypoint-initdb.d")
    for svc in DATA_SERVICES:
        env = compose_env(compose["services"][svc])
        var = env_name(svc, "database_url")
        url = env.get(var)
        want = rf"postgresql://{user}:[^@/]+@postgres(:5432)?/xinfang_{svc}"
        if url is None or not re.fullmatch(want, url):
            problems.append(f"{svc}: {var}={url!r} is not {want}")
        if f"xinfang_{svc}" not in created:
            problems.append(f"postgres: the init script does not create xinfang_{svc}")
        others = [env_name(o, "database_url") for o in DATA_SERVICES if o != svc]
        if leaked := [o for o in others if o in env]:
            problems.append(f"{svc}: has another service's database URL: {leaked}")
    for svc in (s for s in SERVICES if s not in DATA_SERVICES):
        env = compose_env(compose["services"][svc])
        if leaked := [
            env_name(o, "database_url") for o in DATA_SERVICES if env_name(o, "database_url") in env
        ]:
            problems.append(f"{svc}: has no database but gets the URL of {leaked}")
    return problems


def check_compose_env(compose: Doc) -> list[str]:
    problems = []
    kafka_env = compose_env(compose["services"].get("kafka") or {})
    for svc in SERVICES:
        env = compose_env(compose["services"][svc])
        if svc in DATA_SERVICES:
            servers = env.get("XF_KAFKA_BOOTSTRAP_SERVERS", "")
            if servers != "kafka:9092":
                problems.append(f"{svc}: XF_KAFKA_BOOTSTRAP_SERVERS={servers!r}, not kafka:9092")
            if not env.get("APP_DATADIR", "").startswith("/tmp/"):
                problems.append(f"{svc}: APP_DATADIR (faust's data directory) must be writable")
        if env.get("XF_HTTP_HOST") != "0.0.0.0":
            problems.append(f"{svc}: XF_HTTP_HOST must be 0.0.0.0 in a container")
        salt = env.get("XF_ID_HASH_SALT")
        if uses_salt(svc) and not (salt and re.fullmatch(r"\$\{XF_ID_HASH_SALT:\?[^}]+\}", salt)):
            problems.append(f"{svc}: XF_ID_HASH_SALT={salt!r}, not ${{XF_ID_HASH_SALT:?...}}")
        if not uses_salt(svc) and salt is not None:
            problems.append(f"{svc}: gets XF_ID_HASH_SALT but does not use it")
        secret = env.get("XF_AUTH_SECRET")
        if not (secret and re.fullmatch(r"\$\{XF_AUTH_SECRET:\?[^}]+\}", secret)):
            problems.append(f"{svc}: XF_AUTH_SECRET={secret!r}, not ${{XF_AUTH_SECRET:?...}}")
        if truthy(env.get("XF_DEMO")):
            problems.append(f"{svc}: XF_DEMO is on: the services would accept the demo secrets")
    for servers in {
        compose_env(compose["services"][s]).get("XF_KAFKA_BOOTSTRAP_SERVERS") for s in DATA_SERVICES
    }:
        if f"//{servers}" not in kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""):
            problems.append(f"kafka: advertises no listener at {servers}")
    return problems


def check_compose_intake_replicas(compose: Doc) -> list[str]:
    problems = []
    intake = compose["services"]["intake"]
    replicas = (intake.get("deploy") or {}).get("replicas", 1)
    if int(replicas) < 2:
        problems.append(f"intake: {replicas} replica(s), want at least 2")
    for port in intake.get("ports") or []:
        if isinstance(port, dict):
            published = str(port.get("published", ""))
        else:
            parts = str(port).split(":")
            published = parts[-2] if len(parts) >= 2 else ""
        if not published:
            continue  # a free host port per replica
        low, _, high = published.partition("-")
        if int(high or low) - int(low) + 1 < int(replicas):
            problems.append(f"intake: host port {published} cannot serve {replicas} replicas")
    return problems


def check_compose_start_order(compose: Doc) -> list[str]:
    problems = []
    services = compose["services"]
    want = {
        "postgres": "service_healthy",
        "kafka": "service_healthy",
        TOPICS: "service_completed_successfully",
    }
    for svc in DATA_SERVICES:
        deps = services[svc].get("depends_on") or {}
        for dep, condition in want.items():
            got = deps.get(dep, {}).get("condition") if isinstance(deps, dict) else None
            if got != condition:
                problems.append(f"{svc}: depends_on {dep} is {got!r}, want {condition}")
    for name, svc in services.items():
        restart = str(svc.get("restart", "no"))
        if name == TOPICS and restart != "no":
            problems.append(f"{TOPICS}: a one-shot job must not restart ({restart})")
        if name != TOPICS and restart not in {"always", "unless-stopped", "on-failure"}:
            problems.append(f"{name}: restart policy {restart!r}")
    kafka_dep = (services[TOPICS].get("depends_on") or {}).get("kafka", {})
    if kafka_dep.get("condition") != "service_healthy":
        problems.append(f"{TOPICS}: must wait for a healthy kafka")
    return problems


def check_compose_topics(compose: Doc) -> list[str]:
    problems = []
    job = compose["services"].get(TOPICS) or {}
    words = words_of(job.get("command") or [])
    if words[:3] != ["python", "-m", "deploy.broker"] or "--topics-only" not in words:
        problems.append(f"{TOPICS}: command is not python -m deploy.broker --topics-only: {words}")
    for svc in DATA_SERVICES:
        env = compose_env(compose["services"][svc])
        if option(words, "--bootstrap") != env.get("XF_KAFKA_BOOTSTRAP_SERVERS"):
            problems.append(f"{TOPICS}: --bootstrap differs from {svc}'s broker")
        if option(words, "--partitions") != env.get("XF_TOPIC_PARTITIONS"):
            problems.append(
                f"{TOPICS}: --partitions {option(words, '--partitions')} but {svc} has "
                f"XF_TOPIC_PARTITIONS={env.get('XF_TOPIC_PARTITIONS')}"
            )
    build = job.get("build") or {}
    built_from = re.search(r"services/(\w+)/Dockerfile", str(build.get("dockerfile", "")))
    image = built_from.group(1) if built_from else None
    if image not in DATA_SERVICES:
        problems.append(f"{TOPICS}: not built from a data service's Dockerfile: {build}")
    elif not image_has_deploy_package(image):
        mounts = {}
        for v in job.get("volumes") or []:
            src, dst = str(v).split(":")[:2]
            mounts[dst] = src
        for f in LAUNCHER_FILES:
            src = mounts.get(f"/app/deploy/{f}")
            if src is None or (DEPLOY / src).resolve() != (DEPLOY / f).resolve():
                problems.append(f"{TOPICS}: the image has no deploy/; mount deploy/{f} there")
    return problems


def check_compose_published_on_loopback(compose: Doc) -> list[str]:
    """The file publishes on 127.0.0.1 only: a proxy goes in front for anything more."""
    return [
        f"{name}: publishes {published or target} on {host or 'every address'}, not 127.0.0.1"
        for name, svc in compose["services"].items()
        for host, published, target in published_ports(svc)
        if host != "127.0.0.1"
    ]


def check_compose_workbench(compose: Doc) -> list[str]:
    """The workbench calls each service by its Compose name on the port it listens on, starts
    with them, and its public address (the same-origin check of form posts) is where it is
    published."""
    problems = []
    services = compose["services"]
    bench = services.get(WORKBENCH)
    if bench is None:
        return [f"no {WORKBENCH} service"]
    env = compose_env(bench)
    deps = bench.get("depends_on") or {}
    for svc in called_by_workbench():
        port = compose_env(services[svc]).get(env_name(svc, "port"), default_port(svc))
        want = f"http://{svc}:{port}"
        if env.get(calls(svc), "").rstrip("/") != want:
            problems.append(f"{WORKBENCH}: {calls(svc)}={env.get(calls(svc))!r}, not {want}")
        if svc not in deps:
            problems.append(f"{WORKBENCH}: does not depend on {svc}")
    port = env.get(env_name(WORKBENCH, "port"), default_port(WORKBENCH))
    public = compose_default(env.get(env_name(WORKBENCH, "public_url"))) or str(
        settings_class(WORKBENCH).model_fields["public_url"].default
    )
    reachable = {
        f"http://{host or '127.0.0.1'}:{published}"
        for host, published, target in published_ports(bench)
        if target == port and published
    }
    if public.rstrip("/") not in reachable:
        problems.append(
            f"{WORKBENCH}: public URL {public} is not where it is published: {sorted(reachable)}"
        )
    return problems


# --- checks: Kubernetes ----------------------------------------------------------------------


def check_k8s_schema(objs: list[Doc]) -> list[str]:
    problems = []
    for obj in objs:
        path = k8s_schema_path(obj)
        if not path.exists():
            problems.append(f"{name_of(obj)}: no vendored schema {path.name}")
            continue
        problems += schema_errors(k8s_validator(path), obj, name_of(obj))
    return problems


def check_k8s_namespace(objs: list[Doc]) -> list[str]:
    namespaces = of_kind(objs, "Namespace")
    if len(namespaces) != 1:
        return [f"want one Namespace, found {len(namespaces)}"]
    ns = namespaces[0]["metadata"]["name"]
    return [
        f"{name_of(o)}: namespace {o['metadata'].get('namespace')!r}, not {ns}"
        for o in objs
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != ns
    ]


def check_k8s_selectors(objs: list[Doc]) -> list[str]:
    problems = []
    deployments = of_kind(objs, "Deployment")
    for dep in deployments:
        name, labels = dep["metadata"]["name"], pod_labels(dep)
        if not selects(dep["spec"]["selector"].get("matchLabels"), labels):
            problems.append(f"Deployment/{name}: selector does not match its pod labels")
        svc = find(objs, "Service", name)
        if svc is None:
            problems.append(f"Deployment/{name}: no Service of the same name")
            continue
        selector = svc["spec"].get("selector")
        if not selects(selector, labels):
            problems.append(f"Service/{name}: selector {selector} does not match {labels}")
        for other in deployments:
            if other is not dep and selects(selector, pod_labels(other)):
                problems.append(
                    f"Service/{name}: also selects Deployment/{other['metadata']['name']}"
                )
        container = main_container(dep)
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            declared = {p["containerPort"] for p in container.get("ports") or []}
            if resolve_port(container, target) not in declared:
                problems.append(f"Service/{name}: targetPort {target} is no container port")
    return problems


def check_k8s_probes(objs: list[Doc]) -> list[str]:
    problems = []
    for svc in SERVICES:
        dep = find(objs, "Deployment", svc)
        if dep is None:
            problems.append(f"no Deployment/{svc}")
            continue
        container = main_container(dep)
        env = container_env(container, objs)
        port = int(env.get(env_name(svc, "port")) or default_port(svc))
        if port not in {p["containerPort"] for p in container.get("ports") or []}:
            problems.append(
                f"{svc}: listens on {port} ({env_name(svc, 'port')}), not a declared container port"
            )
        if port != exposed_port(svc):
            problems.append(f"{svc}: port {port}, but the image EXPOSEs {exposed_port(svc)}")
        for probe, path in (
            ("readinessProbe", ready_path(svc)),
            ("livenessProbe", "/healthz"),
            ("startupProbe", "/healthz"),
        ):
            get = (container.get(probe) or {}).get("httpGet")
            if get is None:
                if probe != "startupProbe":
                    problems.append(f"{svc}: no HTTP {probe}")
                continue
            if get.get("path") != path:
                problems.append(f"{svc}: {probe} on {get.get('path')}, want {path}")
            if resolve_port(container, get.get("port")) != port:
                problems.append(f"{svc}: {probe} on port {get.get('port')}, service on {port}")
    return problems


def check_k8s_pods(objs: list[Doc]) -> list[str]:
    """Restricted Pod Security, resources, graceful shutdown and the images of every pod."""
    problems = []
    for work in [*of_kind(objs, "Deployment"), *of_kind(objs, "Job")]:
        who, spec = name_of(work), pod_spec(work)
        ctx = spec.get("securityContext") or {}
        if ctx.get("runAsNonRoot") is not True:
            problems.append(f"{who}: runAsNonRoot is not true")
        # numeric: the images' USER is a name, which the kubelet cannot check against root
        image = re.fullmatch(r"xinfang/(\w+):.*", str(spec["containers"][0].get("image")))
        uid = image_uid(image.group(1) if image and image.group(1) in SERVICES else "intake")
        if ctx.get("runAsUser") != uid or not uid:
            problems.append(f"{who}: runAsUser {ctx.get('runAsUser')}, want the images' uid {uid}")
        if (ctx.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{who}: seccompProfile is not RuntimeDefault")
        for c in all_containers(work):
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(res.get(part) or {}):
                    problems.append(f"{who}/{c['name']}: no cpu and memory {part}")
            cctx = c.get("securityContext") or {}
            if cctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{who}/{c['name']}: allowPrivilegeEscalation is not false")
            if "ALL" not in ((cctx.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{who}/{c['name']}: capabilities not dropped")
            if cctx.get("readOnlyRootFilesystem"):
                tmp = {m["mountPath"] for m in c.get("volumeMounts") or []}
                # Python's tempfile needs a writable /tmp (the workbench spools uploads of
                # over 1 MB there)
                if work["kind"] == "Deployment" and c in spec["containers"] and "/tmp" not in tmp:
                    problems.append(f"{who}/{c['name']}: read-only root and no writable /tmp")
                env = container_env(c, objs)
                datadir = env.get("APP_DATADIR")
                if datadir is not None and not any(datadir.startswith(t) for t in tmp):
                    problems.append(f"{who}/{c['name']}: APP_DATADIR {datadir} is read-only")
            image = str(c.get("image", ""))
            if image not in {f"xinfang/{s}:{version(s)}" for s in SERVICES}:
                problems.append(f"{who}/{c['name']}: image {image!r} is none of ours")
        if work["kind"] != "Deployment":
            continue
        name = work["metadata"]["name"]
        if main_container(work).get("image") != f"xinfang/{name}:{version(name)}":
            problems.append(
                f"{who}: image {main_container(work).get('image')!r}, "
                f"want xinfang/{name}:{version(name)}"
            )
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace < 30:
            problems.append(f"{who}: terminationGracePeriodSeconds {grace} < 30")
        pre_stop = (main_container(work).get("lifecycle") or {}).get("preStop") or {}
        words = (pre_stop.get("exec") or {}).get("command") or []
        seconds = (pre_stop.get("sleep") or {}).get("seconds")
        if words[:1] == ["sleep"] and len(words) == 2 and words[1].isdigit():
            seconds = int(words[1])
        if not seconds or seconds >= grace - 10:
            problems.append(f"{who}: preStop must sleep a few seconds, well within {grace}s")
    return problems


def check_k8s_env(objs: list[Doc]) -> list[str]:
    problems = []
    config, secrets = config_data(objs, "ConfigMap", CONFIG), config_data(objs, "Secret", SECRETS)
    if config.get("XF_HTTP_HOST") != "0.0.0.0":
        problems.append(f"ConfigMap/{CONFIG}: XF_HTTP_HOST must be 0.0.0.0")
    for work in [*of_kind(objs, "Deployment"), *of_kind(objs, "Job")]:
        for c in all_containers(work):
            for var in c.get("env") or []:
                ref = var.get("valueFrom", {})
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in ref and ref[key]["key"] not in config_data(
                        objs, kind, ref[key]["name"]
                    ):
                        problems.append(
                            f"{name_of(work)}/{c['name']}: {var['name']} refers to "
                            f"missing {kind}/{ref[key]['name']} {ref[key]['key']}"
                        )
            for src in c.get("envFrom") or []:
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in src and find(objs, kind, src[key]["name"]) is None:
                        problems.append(f"{name_of(work)}: envFrom missing {src[key]['name']}")
    for svc in SERVICES:
        dep = find(objs, "Deployment", svc)
        if dep is None:
            continue
        container = main_container(dep)
        env = container_env(container, objs)
        from_secret = {
            v["name"]: v["valueFrom"]["secretKeyRef"]
            for v in container.get("env") or []
            if "secretKeyRef" in v.get("valueFrom", {})
        }
        leaked = [
            env_name(o, "database_url")
            for o in DATA_SERVICES
            if o != svc and env_name(o, "database_url") in env
        ]
        if has_database(svc):
            db = env_name(svc, "database_url")
            if db not in from_secret or from_secret[db]["name"] != SECRETS:
                problems.append(f"{svc}: {db} does not come from Secret/{SECRETS}")
            url = env.get(db) or ""
            if not re.fullmatch(rf"postgresql://[^@]+@[^/]+/xinfang_{svc}", url):
                problems.append(f"{svc}: {db}={url!r} is not postgresql://…/xinfang_{svc}")
            if not env.get("XF_KAFKA_BOOTSTRAP_SERVERS"):
                problems.append(f"{svc}: no XF_KAFKA_BOOTSTRAP_SERVERS")
        elif extra := sorted(set(from_secret) - {"XF_AUTH_SECRET"}):
            # the workbench holds no secret but the token key
            problems.append(f"{svc}: gets secrets it does not use: {extra}")
        if leaked:
            problems.append(f"{svc}: has another service's database URL: {leaked}")
        if uses_salt(svc) != ("XF_ID_HASH_SALT" in from_secret):
            problems.append(f"{svc}: XF_ID_HASH_SALT from the Secret iff the service uses it")
        auth = from_secret.get("XF_AUTH_SECRET")
        if auth is None or auth["name"] != SECRETS or auth["key"] != "XF_AUTH_SECRET":
            problems.append(f"{svc}: XF_AUTH_SECRET does not come from Secret/{SECRETS}")
        if truthy(env.get("XF_DEMO")):
            problems.append(f"{svc}: XF_DEMO is on: the services would accept the demo secrets")
    if "XF_ID_HASH_SALT" not in secrets:
        problems.append(f"Secret/{SECRETS}: no XF_ID_HASH_SALT")
    if "XF_AUTH_SECRET" not in secrets:
        problems.append(f"Secret/{SECRETS}: no XF_AUTH_SECRET")
    return problems


def check_k8s_intake_scaling(objs: list[Doc]) -> list[str]:
    problems = []
    intake = find(objs, "Deployment", "intake")
    if intake is None:
        return ["no Deployment/intake"]
    for hpa in of_kind(objs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref.get("apiVersion"), ref["kind"]) != ("apps/v1", "Deployment") or find(
            objs, "Deployment", ref["name"]
        ) is None:
            problems.append(f"{name_of(hpa)}: scaleTargetRef {ref} is no Deployment here")
    hpas = [
        h
        for h in of_kind(objs, "HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == "intake"
    ]
    if len(hpas) != 1:
        return [*problems, f"want one HorizontalPodAutoscaler for intake, found {len(hpas)}"]
    spec = hpas[0]["spec"]
    low, high = spec.get("minReplicas", 1), spec["maxReplicas"]
    if low < 2 or high < low:
        problems.append(f"intake HPA: min {low}, max {high}; want min >= 2 <= max")
    cpu = [
        m["resource"]["target"]
        for m in spec.get("metrics") or []
        if m["type"] == "Resource" and m["resource"]["name"] == "cpu"
    ]
    if cpu != [{"type": "Utilization", "averageUtilization": 70}]:
        problems.append(f"intake HPA: CPU target {cpu}, want 70% utilization")
    if intake["spec"].get("replicas", low) < 2:
        problems.append("Deployment/intake: fewer than 2 replicas")
    pdbs = [
        p
        for p in of_kind(objs, "PodDisruptionBudget")
        if selects(p["spec"]["selector"].get("matchLabels"), pod_labels(intake))
    ]
    if len(pdbs) != 1:
        problems.append(f"want one PodDisruptionBudget selecting intake's pods, found {len(pdbs)}")
    for pdb in of_kind(objs, "PodDisruptionBudget"):
        for other in of_kind(objs, "Deployment"):
            if other is not intake and selects(
                pdb["spec"]["selector"].get("matchLabels"), pod_labels(other)
            ):
                problems.append(f"{name_of(pdb)}: also selects {name_of(other)}")
    for pdb in pdbs:
        budget = pdb["spec"]
        if "minAvailable" in budget and not 1 <= int(budget["minAvailable"]) < low:
            problems.append(f"{name_of(pdb)}: minAvailable must be 1..{low - 1} (drains)")
        if "maxUnavailable" in budget and int(budget["maxUnavailable"]) < 1:
            problems.append(f"{name_of(pdb)}: maxUnavailable must be >= 1 (drains)")
    return problems


def check_k8s_partitions(objs: list[Doc]) -> list[str]:
    """A consumer group uses at most one consumer per partition: no service may have more
    replicas than the topics have partitions (every data service consumes, intake included;
    the workbench consumes nothing)."""
    partitions = int(config_data(objs, "ConfigMap", CONFIG).get("XF_TOPIC_PARTITIONS", 0))
    problems = []
    for dep in of_kind(objs, "Deployment"):
        name = dep["metadata"]["name"]
        if name not in DATA_SERVICES:
            continue
        most = dep["spec"].get("replicas", 1)
        for hpa in of_kind(objs, "HorizontalPodAutoscaler"):
            if hpa["spec"]["scaleTargetRef"]["name"] == name:
                most = hpa["spec"]["maxReplicas"]
        if most > partitions:
            problems.append(f"{name}: up to {most} replicas, topics have {partitions} partitions")
    return problems


def check_k8s_workbench(objs: list[Doc]) -> list[str]:
    """The workbench calls each service through its Service (in this namespace, on the port
    the Service offers), and sends its session cookie over HTTPS only when it is served so."""
    bench = find(objs, "Deployment", WORKBENCH)
    if bench is None:
        return [f"no Deployment/{WORKBENCH}"]
    problems = []
    env = container_env(main_container(bench), objs)
    ns = bench["metadata"].get("namespace")
    for svc in called_by_workbench():
        url = (env.get(calls(svc)) or "").rstrip("/")
        match = re.fullmatch(
            r"http://([a-z0-9-]+)(?:\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?)?:(\d+)", url
        )
        service = find(objs, "Service", match.group(1)) if match else None
        if match is None or service is None:
            problems.append(f"{WORKBENCH}: {calls(svc)}={url!r} names no Service here")
            continue
        if match.group(1) != svc or match.group(2) not in {None, ns}:
            problems.append(f"{WORKBENCH}: {calls(svc)}={url!r} is not Service/{svc} in {ns}")
        if int(match.group(3)) not in {p["port"] for p in service["spec"]["ports"]}:
            problems.append(f"{WORKBENCH}: {calls(svc)}={url!r}: Service/{svc} has no such port")
    public = env.get(env_name(WORKBENCH, "public_url")) or ""
    secure = env.get(env_name(WORKBENCH, "cookie_secure")) or ""
    if not public.startswith("https://"):
        problems.append(f"{WORKBENCH}: public URL {public!r} is not https://")
    if not truthy(secure):
        problems.append(f"{WORKBENCH}: the session cookie is not HTTPS-only ({secure!r})")
    return problems


def check_k8s_topics(objs: list[Doc]) -> list[str]:
    problems = []
    config = config_data(objs, "ConfigMap", CONFIG)
    jobs = of_kind(objs, "Job")
    if len(jobs) != 1:
        return [f"want one topics Job, found {len(jobs)}"]
    runners = [(name_of(jobs[0]), jobs[0], pod_spec(jobs[0])["containers"][0])]
    for dep in of_kind(objs, "Deployment"):
        runners += [(name_of(dep), dep, c) for c in pod_spec(dep).get("initContainers") or []]
    for who, work, c in runners:
        words = command_of(c, objs)
        if words[:3] != ["python", "-m", "deploy.broker"] or "--topics-only" not in words:
            problems.append(f"{who}: not python -m deploy.broker --topics-only: {words}")
        if option(words, "--bootstrap") != config.get("XF_KAFKA_BOOTSTRAP_SERVERS"):
            problems.append(
                f"{who}: --bootstrap {option(words, '--bootstrap')} is not the "
                "services' XF_KAFKA_BOOTSTRAP_SERVERS"
            )
        if option(words, "--partitions") != config.get("XF_TOPIC_PARTITIONS"):
            problems.append(
                f"{who}: --partitions {option(words, '--partitions')} is not the "
                "services' XF_TOPIC_PARTITIONS"
            )
        image = re.fullmatch(r"xinfang/(\w+):.*", str(c.get("image")))
        if image and image.group(1) in SERVICES and image_has_deploy_package(image.group(1)):
            continue
        # the image has no deploy/: it must be mounted, identical to the repository's files
        mount = next(
            (m for m in c.get("volumeMounts") or [] if m["mountPath"] == "/app/deploy"), None
        )
        volume = next(
            (
                v
                for v in pod_spec(work).get("volumes") or []
                if mount and v["name"] == mount["name"]
            ),
            None,
        )
        if volume is None or "configMap" not in volume:
            problems.append(f"{who}: the image has no deploy/; mount it at /app/deploy")
            continue
        data = config_data(objs, "ConfigMap", volume["configMap"]["name"])
        for f in LAUNCHER_FILES:
            if data.get(f) != (DEPLOY / f).read_text():
                problems.append(
                    f"ConfigMap/{volume['configMap']['name']}: {f} differs from deploy/{f}: "
                    f"copy it again into deploy/k8s/topics-job.yaml"
                )
    return problems


# --- tests -----------------------------------------------------------------------------------


def test_vendored_schemas_are_the_recorded_files() -> None:
    readme = (SCHEMAS / "README.md").read_text()
    recorded = dict((p, s) for s, p in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M))
    present = {str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*.json")}
    assert set(recorded) == present
    for path, digest in recorded.items():
        assert hashlib.sha256((SCHEMAS / path).read_bytes()).hexdigest() == digest, path


def test_compose_file_matches_the_compose_specification() -> None:
    assert check_compose_schema(load_compose()) == []


def test_k8s_manifests_match_the_kubernetes_schemas() -> None:
    objs = load_k8s()
    assert {o["kind"] for o in objs} == {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    }
    assert check_k8s_schema(objs) == []


def test_kustomization_lists_every_manifest() -> None:
    listed = _kustomization()["resources"]
    present = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present
    assert len(set(listed)) == len(listed)
    assert _kustomization()["kind"] == "Kustomization"


def test_compose_services_have_healthchecks_on_their_port() -> None:
    assert check_compose_healthchecks(load_compose()) == []


def test_compose_services_have_their_own_database() -> None:
    assert check_compose_databases(load_compose()) == []


def test_compose_services_reach_kafka_and_get_the_salt_from_the_environment() -> None:
    assert check_compose_env(load_compose()) == []


def test_compose_intake_runs_two_replicas_without_a_fixed_host_port() -> None:
    assert check_compose_intake_replicas(load_compose()) == []


def test_compose_start_order_and_restart_policies() -> None:
    assert check_compose_start_order(load_compose()) == []


def test_compose_topics_job_creates_the_topics_the_services_expect() -> None:
    assert check_compose_topics(load_compose()) == []


def test_k8s_everything_in_one_namespace() -> None:
    assert check_k8s_namespace(load_k8s()) == []


def test_k8s_selectors_match_pod_labels() -> None:
    assert check_k8s_selectors(load_k8s()) == []


def test_k8s_probes_on_healthz_and_readyz_at_the_service_port() -> None:
    assert check_k8s_probes(load_k8s()) == []


def test_k8s_pods_are_restricted_bounded_and_drain() -> None:
    assert check_k8s_pods(load_k8s()) == []


def test_k8s_environment_and_secrets() -> None:
    assert check_k8s_env(load_k8s()) == []


def test_k8s_intake_autoscaler_and_disruption_budget() -> None:
    assert check_k8s_intake_scaling(load_k8s()) == []


def test_k8s_replicas_fit_the_partitions() -> None:
    assert check_k8s_partitions(load_k8s()) == []


def test_k8s_topics_job_and_init_containers() -> None:
    assert check_k8s_topics(load_k8s()) == []


def test_compose_publishes_on_loopback_only() -> None:
    assert check_compose_published_on_loopback(load_compose()) == []


def test_compose_workbench_calls_the_services_by_name() -> None:
    assert check_compose_workbench(load_compose()) == []


def test_k8s_workbench_calls_the_services_through_their_services() -> None:
    assert check_k8s_workbench(load_k8s()) == []


def test_every_service_is_deployed() -> None:
    """Each services/<name>/ with a Dockerfile is one of the services checked here (a new one
    goes into SERVICES, and then into compose.yaml and k8s/); the data services are exactly
    the ones with a database."""
    built = sorted(p.parent.name for p in (ROOT / "services").glob("*/Dockerfile"))
    assert built == sorted(SERVICES)
    assert [s for s in SERVICES if has_database(s)] == list(DATA_SERVICES)
    assert [svc for svc in SERVICES if find(load_k8s(), "Deployment", svc) is None] == []


def test_compose_builds_each_service_into_its_image() -> None:
    assert check_compose_images(load_compose()) == []


def test_compose_and_k8s_use_the_same_partition_count() -> None:
    compose = {
        compose_env(load_compose()["services"][s])["XF_TOPIC_PARTITIONS"] for s in DATA_SERVICES
    }
    assert compose == {config_data(load_k8s(), "ConfigMap", CONFIG)["XF_TOPIC_PARTITIONS"]}


@pytest.mark.parametrize("service", [s for s in SERVICES if uses_salt(s)])
def test_k8s_salt_placeholder_stops_the_services(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Secret applied with the placeholder salt makes the service refuse to start instead of
    hashing ID numbers with a published value."""
    placeholder = config_data(load_k8s(), "Secret", SECRETS)["XF_ID_HASH_SALT"]
    monkeypatch.setenv("XF_ID_HASH_SALT", placeholder)
    with pytest.raises(pydantic.ValidationError):
        settings_class(service)()


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_auth_secret_placeholder_stops_the_services(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Secret applied with the placeholder token key makes every service refuse to start
    instead of signing logins with a published value."""
    placeholder = config_data(load_k8s(), "Secret", SECRETS)["XF_AUTH_SECRET"]
    monkeypatch.setenv("XF_AUTH_SECRET", placeholder)
    with pytest.raises(pydantic.ValidationError):
        settings_class(service)()


# --- every check can fail: one breakage each -------------------------------------------------

Mutation = Callable[[Doc, list[Doc]], None]


def _deployment(objs: list[Doc], name: str) -> Doc:
    dep = find(objs, "Deployment", name)
    assert dep is not None
    return dep


def _set_env(container: Doc, name: str, value: str) -> None:
    for var in container["env"]:
        if var["name"] == name:
            var.clear()
            var.update(name=name, value=value)


def _replace_word(words: list[str], old: str, new: str) -> None:
    words[words.index(old)] = new


def _secret_env(container: Doc, name: str, secret: str = SECRETS, key: str | None = None) -> None:
    """Set (or add) ``name`` from a Secret's key."""
    ref = {"secretKeyRef": {"name": secret, "key": key or name}}
    for var in container["env"]:
        if var["name"] == name:
            var.clear()
            var.update(name=name, valueFrom=ref)
            return
    container["env"].append({"name": name, "valueFrom": ref})


def _mutations() -> dict[str, tuple[Callable[..., list[str]], str, Mutation]]:
    c_svc = lambda c, name: c["services"][name]  # noqa: E731
    c_bench = lambda c: c["services"][WORKBENCH]  # noqa: E731
    k_bench = lambda o: main_container(_deployment(o, WORKBENCH))  # noqa: E731
    k_config = lambda o: find(o, "ConfigMap", CONFIG)["data"]  # noqa: E731
    return {
        "compose-schema-typo": (
            check_compose_schema,
            "compose",
            lambda c, _: c_svc(c, "intake")["healthcheck"].update(intervall="5s"),
        ),
        "compose-schema-bad-condition": (
            check_compose_schema,
            "compose",
            lambda c, _: c_svc(c, "routing")["depends_on"].update(kafka={"condition": "healthy"}),
        ),
        "compose-no-healthcheck": (
            check_compose_healthchecks,
            "compose",
            lambda c, _: c_svc(c, "notify").pop("healthcheck"),
        ),
        "compose-healthcheck-wrong-port": (
            check_compose_healthchecks,
            "compose",
            lambda c, _: c_svc(c, "routing")["healthcheck"].update(
                test=[
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request; "
                    "urllib.request.urlopen('http://127.0.0.1:8001/healthz')",
                ]
            ),
        ),
        "compose-healthcheck-curl": (
            check_compose_healthchecks,
            "compose",
            lambda c, _: c_svc(c, "supervision")["healthcheck"].update(
                test=["CMD", "curl", "-f", "http://127.0.0.1:8003/healthz"]
            ),
        ),
        "compose-wrong-database": (
            check_compose_databases,
            "compose",
            lambda c, _: c_svc(c, "routing")["environment"].update(
                XF_ROUTING_DATABASE_URL="postgresql://xinfang:pw@postgres/xinfang_intake"
            ),
        ),
        "compose-database-variable-typo": (
            check_compose_databases,
            "compose",
            lambda c, _: c_svc(c, "notify")["environment"].update(
                XF_NOTIFICATION_DATABASE_URL=c_svc(c, "notify")["environment"].pop(
                    "XF_NOTIFY_DATABASE_URL"
                )
            ),
        ),
        "compose-init-script-not-mounted": (
            check_compose_databases,
            "compose",
            lambda c, _: c_svc(c, "postgres").update(volumes=["pgdata:/var/lib/postgresql/data"]),
        ),
        "compose-salt-default": (
            check_compose_env,
            "compose",
            lambda c, _: c_svc(c, "intake")["environment"].update(
                XF_ID_HASH_SALT="${XF_ID_HASH_SALT:-demo-salt}"
            ),
        ),
        "compose-demo-mode": (
            check_compose_env,
            "compose",
            lambda c, _: c_svc(c, "routing")["environment"].update(XF_DEMO="true"),
        ),
        "compose-localhost-broker": (
            check_compose_env,
            "compose",
            lambda c, _: c_svc(c, "supervision")["environment"].update(
                XF_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092"
            ),
        ),
        "compose-one-intake": (
            check_compose_intake_replicas,
            "compose",
            lambda c, _: c_svc(c, "intake")["deploy"].update(replicas=1),
        ),
        "compose-intake-fixed-port": (
            check_compose_intake_replicas,
            "compose",
            lambda c, _: c_svc(c, "intake").update(ports=["8001:8001"]),
        ),
        "compose-started-not-completed": (
            check_compose_start_order,
            "compose",
            lambda c, _: c_svc(c, "notify")["depends_on"].update(
                topics={"condition": "service_started"}
            ),
        ),
        "compose-no-restart": (
            check_compose_start_order,
            "compose",
            lambda c, _: c_svc(c, "routing").pop("restart"),
        ),
        "compose-topics-not-topics-only": (
            check_compose_topics,
            "compose",
            lambda c, _: c_svc(c, TOPICS)["command"].remove("--topics-only"),
        ),
        "compose-topics-partitions-differ": (
            check_compose_topics,
            "compose",
            lambda c, _: c_svc(c, TOPICS).update(
                command="python -m deploy.broker --topics-only --bootstrap kafka:9092 "
                "--partitions 6"
            ),
        ),
        "compose-topics-launcher-not-mounted": (
            check_compose_topics,
            "compose",
            lambda c, _: c_svc(c, TOPICS).pop("volumes"),
        ),
        "k8s-schema-field-typo": (
            check_k8s_schema,
            "k8s",
            lambda _, o: main_container(_deployment(o, "routing")).update(
                readinessprobe={"httpGet": {"path": "/readyz", "port": "http"}}
            ),
        ),
        "k8s-schema-wrong-type": (
            check_k8s_schema,
            "k8s",
            lambda _, o: of_kind(o, "HorizontalPodAutoscaler")[0]["spec"].update(minReplicas="2"),
        ),
        "k8s-wrong-namespace": (
            check_k8s_namespace,
            "k8s",
            lambda _, o: of_kind(o, "Service")[0]["metadata"].update(namespace="default"),
        ),
        "k8s-service-selector-typo": (
            check_k8s_selectors,
            "k8s",
            lambda _, o: find(o, "Service", "supervision")["spec"]["selector"].update(
                {"app.kubernetes.io/name": "supervison"}
            ),
        ),
        "k8s-deployment-selector-typo": (
            check_k8s_selectors,
            "k8s",
            lambda _, o: _deployment(o, "notify")["spec"]["selector"]["matchLabels"].update(
                {"app.kubernetes.io/name": "notfy"}
            ),
        ),
        "k8s-service-target-port": (
            check_k8s_selectors,
            "k8s",
            lambda _, o: find(o, "Service", "routing")["spec"]["ports"][0].update(targetPort=8080),
        ),
        "k8s-readiness-on-healthz": (
            check_k8s_probes,
            "k8s",
            lambda _, o: main_container(_deployment(o, "intake"))["readinessProbe"][
                "httpGet"
            ].update(path="/healthz"),
        ),
        "k8s-probe-wrong-port": (
            check_k8s_probes,
            "k8s",
            lambda _, o: main_container(_deployment(o, "notify"))["livenessProbe"][
                "httpGet"
            ].update(port=8001),
        ),
        "k8s-port-variable-differs": (
            check_k8s_probes,
            "k8s",
            lambda _, o: _set_env(
                main_container(_deployment(o, "supervision")), "XF_SUPERVISION_PORT", "9003"
            ),
        ),
        "k8s-root": (
            check_k8s_pods,
            "k8s",
            lambda _, o: pod_spec(_deployment(o, "routing"))["securityContext"].update(
                runAsNonRoot=False
            ),
        ),
        "k8s-no-limits": (
            check_k8s_pods,
            "k8s",
            lambda _, o: main_container(_deployment(o, "intake"))["resources"].pop("limits"),
        ),
        "k8s-short-grace": (
            check_k8s_pods,
            "k8s",
            lambda _, o: pod_spec(_deployment(o, "notify")).update(
                terminationGracePeriodSeconds=10
            ),
        ),
        "k8s-no-prestop": (
            check_k8s_pods,
            "k8s",
            lambda _, o: main_container(_deployment(o, "supervision")).pop("lifecycle"),
        ),
        "k8s-wrong-image": (
            check_k8s_pods,
            "k8s",
            lambda _, o: main_container(_deployment(o, "routing")).update(
                image="xinfang/routing:latest"
            ),
        ),
        "k8s-missing-secret-key": (
            check_k8s_env,
            "k8s",
            lambda _, o: find(o, "Secret", SECRETS)["stringData"].pop("XF_NOTIFY_DATABASE_URL"),
        ),
        "k8s-demo-mode": (
            check_k8s_env,
            "k8s",
            lambda _, o: find(o, "ConfigMap", CONFIG)["data"].update(XF_DEMO="true"),
        ),
        "k8s-wrong-database": (
            check_k8s_env,
            "k8s",
            lambda _, o: find(o, "Secret", SECRETS)["stringData"].update(
                XF_ROUTING_DATABASE_URL="postgresql://x:y@db/xinfang_intake"
            ),
        ),
        "k8s-hpa-target-typo": (
            check_k8s_intake_scaling,
            "k8s",
            lambda _, o: of_kind(o, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"].update(
                name="intak"
            ),
        ),
        "k8s-hpa-one-replica": (
            check_k8s_intake_scaling,
            "k8s",
            lambda _, o: of_kind(o, "HorizontalPodAutoscaler")[0]["spec"].update(minReplicas=1),
        ),
        "k8s-pdb-selector-typo": (
            check_k8s_intake_scaling,
            "k8s",
            lambda _, o: of_kind(o, "PodDisruptionBudget")[0]["spec"]["selector"][
                "matchLabels"
            ].update({"app.kubernetes.io/name": "intke"}),
        ),
        "k8s-more-replicas-than-partitions": (
            check_k8s_partitions,
            "k8s",
            lambda _, o: of_kind(o, "HorizontalPodAutoscaler")[0]["spec"].update(maxReplicas=20),
        ),
        "k8s-job-not-topics-only": (
            check_k8s_topics,
            "k8s",
            lambda _, o: pod_spec(of_kind(o, "Job")[0])["containers"][0]["command"].remove(
                "--topics-only"
            ),
        ),
        "k8s-job-other-partitions": (
            check_k8s_topics,
            "k8s",
            lambda _, o: _replace_word(
                pod_spec(of_kind(o, "Job")[0])["containers"][0]["command"],
                "$(XF_TOPIC_PARTITIONS)",
                "6",
            ),
        ),
        "k8s-init-container-other-broker": (
            check_k8s_topics,
            "k8s",
            lambda _, o: _replace_word(
                pod_spec(_deployment(o, "notify"))["initContainers"][0]["command"],
                "$(XF_KAFKA_BOOTSTRAP_SERVERS)",
                "localhost:9092",
            ),
        ),
        # the workbench: checked where it applies, like the four
        "compose-workbench-image-tag": (
            check_compose_images,
            "compose",
            lambda c, _: c_bench(c).update(image="xinfang/workbench:latest"),
        ),
        "compose-workbench-built-from-intake": (
            check_compose_images,
            "compose",
            lambda c, _: c_bench(c)["build"].update(dockerfile="services/intake/Dockerfile"),
        ),
        "compose-workbench-healthcheck-wrong-port": (
            check_compose_healthchecks,
            "compose",
            lambda c, _: c_bench(c)["healthcheck"].update(
                test=[
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request; "
                    "urllib.request.urlopen('http://127.0.0.1:8004/healthz')",
                ]
            ),
        ),
        "compose-workbench-publishes-another-port": (
            check_compose_healthchecks,
            "compose",
            lambda c, _: c_bench(c)["ports"][0].update(target=8004),
        ),
        "compose-workbench-gets-a-database": (
            check_compose_databases,
            "compose",
            lambda c, _: c_bench(c)["environment"].update(
                XF_INTAKE_DATABASE_URL="postgresql://xinfang:pw@postgres/xinfang_intake"
            ),
        ),
        "compose-workbench-demo-auth-secret": (
            check_compose_env,
            "compose",
            lambda c, _: c_bench(c)["environment"].update(
                XF_AUTH_SECRET="${XF_AUTH_SECRET:-xinfang-DEMO-ONLY-auth-secret}"
            ),
        ),
        "compose-workbench-gets-the-salt": (
            check_compose_env,
            "compose",
            lambda c, _: c_bench(c)["environment"].update(
                XF_ID_HASH_SALT="${XF_ID_HASH_SALT:?set XF_ID_HASH_SALT}"
            ),
        ),
        "compose-workbench-listens-on-localhost": (
            check_compose_env,
            "compose",
            lambda c, _: c_bench(c)["environment"].pop("XF_HTTP_HOST"),
        ),
        "compose-workbench-on-every-address": (
            check_compose_published_on_loopback,
            "compose",
            lambda c, _: c_bench(c).update(ports=["8000:8000"]),
        ),
        "compose-workbench-calls-localhost": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_bench(c)["environment"].update(XF_ROUTING_URL="http://127.0.0.1:8002"),
        ),
        "compose-workbench-calls-wrong-port": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_bench(c)["environment"].update(
                XF_SUPERVISION_URL="http://supervision:8002"
            ),
        ),
        "compose-workbench-url-unset": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_bench(c)["environment"].pop("XF_NOTIFY_URL"),
        ),
        "compose-workbench-service-moved": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_svc(c, "intake")["environment"].update(XF_INTAKE_PORT="9001"),
        ),
        "compose-workbench-starts-alone": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_bench(c)["depends_on"].pop("intake"),
        ),
        "compose-workbench-public-url-elsewhere": (
            check_compose_workbench,
            "compose",
            lambda c, _: c_bench(c)["ports"][0].update(published="8080"),
        ),
        "k8s-workbench-service-selector-typo": (
            check_k8s_selectors,
            "k8s",
            lambda _, o: find(o, "Service", WORKBENCH)["spec"]["selector"].update(
                {"app.kubernetes.io/name": "workbnch"}
            ),
        ),
        "k8s-workbench-readiness-on-readyz": (
            check_k8s_probes,
            "k8s",
            lambda _, o: k_bench(o)["readinessProbe"]["httpGet"].update(path="/readyz"),
        ),
        "k8s-workbench-liveness-wrong-port": (
            check_k8s_probes,
            "k8s",
            lambda _, o: k_bench(o)["livenessProbe"]["httpGet"].update(port=8001),
        ),
        "k8s-workbench-root": (
            check_k8s_pods,
            "k8s",
            lambda _, o: pod_spec(_deployment(o, WORKBENCH))["securityContext"].update(runAsUser=0),
        ),
        "k8s-workbench-privilege-escalation": (
            check_k8s_pods,
            "k8s",
            lambda _, o: k_bench(o)["securityContext"].update(allowPrivilegeEscalation=True),
        ),
        "k8s-workbench-image-tag": (
            check_k8s_pods,
            "k8s",
            lambda _, o: k_bench(o).update(image="xinfang/workbench:latest"),
        ),
        "k8s-workbench-no-writable-tmp": (
            check_k8s_pods,
            "k8s",
            # APP_DATADIR (/tmp/faust, from the shared ConfigMap) stays writable: only /tmp is not
            lambda _, o: k_bench(o)["volumeMounts"][0].update(mountPath="/tmp/faust"),
        ),
        "k8s-workbench-auth-secret-elsewhere": (
            check_k8s_env,
            "k8s",
            lambda _, o: _secret_env(k_bench(o), "XF_AUTH_SECRET", secret="workbench-secrets"),
        ),
        "k8s-workbench-auth-secret-other-key": (
            check_k8s_env,
            "k8s",
            lambda _, o: _secret_env(k_bench(o), "XF_AUTH_SECRET", key="XF_ID_HASH_SALT"),
        ),
        "k8s-workbench-gets-a-database": (
            check_k8s_env,
            "k8s",
            lambda _, o: _secret_env(k_bench(o), "XF_INTAKE_DATABASE_URL"),
        ),
        "k8s-workbench-calls-a-hostname": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(
                XF_INTAKE_URL="http://intake-api.example.internal:8001"
            ),
        ),
        "k8s-workbench-calls-the-wrong-service": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(XF_ROUTING_URL="http://intake:8001"),
        ),
        "k8s-workbench-calls-another-namespace": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(
                XF_SUPERVISION_URL="http://supervision.default.svc.cluster.local:8003"
            ),
        ),
        "k8s-workbench-calls-a-pod-port": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(XF_NOTIFY_URL="http://notify:8000"),
        ),
        "k8s-workbench-url-unset": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).pop("XF_NOTIFY_URL"),
        ),
        "k8s-workbench-cookie-over-http": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(XF_WORKBENCH_COOKIE_SECURE="false"),
        ),
        "k8s-workbench-public-http": (
            check_k8s_workbench,
            "k8s",
            lambda _, o: k_config(o).update(XF_WORKBENCH_PUBLIC_URL="http://workbench.example"),
        ),
        "k8s-stale-launcher": (
            check_k8s_topics,
            "k8s",
            lambda _, o: find(o, "ConfigMap", "xinfang-topics-launcher")["data"].update(
                {"broker.py": "print('old')\n"}
            ),
        ),
    }


@pytest.mark.parametrize("case", sorted(_mutations()))
def test_check_catches(case: str) -> None:
    check, target, mutate = _mutations()[case]
    compose, objs = load_compose(), load_k8s()
    assert check(compose if target == "compose" else objs) == [], "the real files pass"
    mutate(compose, objs)
    assert check(compose if target == "compose" else objs) != [], f"{case} went unnoticed"
