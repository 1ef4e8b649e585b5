"""Deployment files agree with the code: docker-compose.yml, the Dockerfiles and deploy/k8s are checked
against the real settings classes (ports, env var names, consumer groups) and shared/topics.py (topics,
partition counts). Pure parsing: no Docker, no cluster, no network."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from pydantic_settings import BaseSettings

from shared import topics
from shared.settings import CLUSTER_WIDE
from tandem import services as tandem_services

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
K8S_DIR = REPO / "deploy" / "k8s"
POSTGRES_INIT = REPO / "deploy" / "postgres" / "init.sql"


def _settings_class(svc: str, class_name: str) -> type[BaseSettings]:
    return cast(type[BaseSettings], getattr(importlib.import_module(f"services.{svc}.config"), class_name))


SETTINGS: dict[str, type[BaseSettings]] = {
    "discovery": _settings_class("discovery", "DiscoverySettings"),
    "fraud": _settings_class("fraud", "FraudSettings"),
    "forecast": _settings_class("forecast", "ForecastSettings"),
    "review": _settings_class("review", "ReviewSettings"),
}
SERVICES = tuple(SETTINGS)
SERVICE_ENTRIES = tandem_services.SERVICES
# Cluster-wide settings, and the `tandem topics create|grant` options read from the environment.
CLI_VARS = {"TANDEM_KAFKA_REPLICATION_FACTOR", "TANDEM_KAFKA_ADMIN_USERNAME", "TANDEM_KAFKA_ADMIN_PASSWORD",
            "TANDEM_KAFKA_ADMIN_MECHANISM"}  # fmt: skip
CLUSTER_WIDE_VARS = frozenset({*(f"TANDEM_{name}" for name in CLUSTER_WIDE), *CLI_VARS})
# Which topics each service's consumer reads, from the services' own specs: the KEDA triggers must follow.
CONSUMES: dict[str, frozenset[str]] = {
    name: frozenset(e.spec.consumes) for name, e in SERVICE_ENTRIES.items()
}
PARTITIONS = {spec.name: spec.partitions for spec in topics.all_topics()}
LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
COMPONENTS = ("api", "worker")

Doc = dict[str, Any]


# --------------------------------------------------------------------------- settings helpers


def settings_port(svc: str) -> int:
    port = SETTINGS[svc].model_fields["port"].default
    assert isinstance(port, int)
    return port


def env_prefix(svc: str) -> str:
    return str(SETTINGS[svc].model_config.get("env_prefix", ""))


def consumer_group(svc: str) -> str:
    fields = SETTINGS[svc].model_fields
    return str(fields["consumer_group"].default or f"tandem-{fields['service_name'].default}")


def env_var_problem(name: str, owner: str | None = None) -> str | None:
    """Why `name` is not a setting Tandem reads (None if it is). `owner` restricts service prefixes to one."""
    if not name.startswith("TANDEM_"):
        return None  # not ours (PYTHONUNBUFFERED, KAFKA_*, POSTGRES_*, ...)
    for svc in SERVICES:
        prefix = env_prefix(svc)
        if name.startswith(prefix):
            if owner is not None and svc != owner:
                return f"{name} configures {svc}, not {owner}"
            field = name.removeprefix(prefix).lower()
            if field not in SETTINGS[svc].model_fields:
                return f"{name}: {SETTINGS[svc].__name__} has no field {field!r}"
            return None
    if name not in CLUSTER_WIDE_VARS:
        return f"{name} is neither a service setting nor one of {sorted(CLUSTER_WIDE_VARS)}"
    return None


# --------------------------------------------------------------------------- compose helpers


@cache
def compose() -> Doc:
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(doc, dict), "docker-compose.yml is not a mapping"
    return doc


def compose_service(name: str) -> Doc:
    services = compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r}"
    service = services[name]
    assert isinstance(service, dict)
    return service


def compose_env(service: Doc) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def as_words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


# --------------------------------------------------------------------------- Dockerfile helpers


def dockerfile(svc: str) -> Path:
    return REPO / "services" / svc / "Dockerfile"


def dockerfile_instructions(svc: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuation lines joined."""
    lines = [line for line in dockerfile(svc).read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs: list[tuple[str, str]] = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            pairs.append((instruction.upper(), args.strip()))
    return pairs


def dockerfile_args(svc: str, instruction: str) -> list[str]:
    return [args for name, args in dockerfile_instructions(svc) if name == instruction]


def dockerfile_env(svc: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in dockerfile_args(svc, "ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            env[key] = value
    return env


# --------------------------------------------------------------------------- Kubernetes helpers


@cache
def k8s_docs() -> tuple[Doc, ...]:
    docs: list[Doc] = []
    for path in sorted([*K8S_DIR.glob("*.yaml"), *K8S_DIR.glob("*.yml")]):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                assert isinstance(doc, dict) and "kind" in doc, f"{path.name}: a document without `kind`"
                docs.append(doc)
    return tuple(docs)


def k8s_of_kind(kind: str) -> list[Doc]:
    return [doc for doc in k8s_docs() if doc["kind"] == kind]


def k8s_named(kind: str, name: str) -> Doc:
    found = [doc for doc in k8s_of_kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r} under deploy/k8s, found {len(found)}"
    return found[0]


def pod_spec(workload: Doc) -> Doc:
    spec = workload["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def all_containers(workload: Doc) -> list[Doc]:
    spec = pod_spec(workload)
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def main_container(deployment: Doc) -> Doc:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: expected one container"
    container = containers[0]
    assert isinstance(container, dict)
    return container


def container_env(container: Doc) -> dict[str, Doc]:
    return {item["name"]: item for item in container.get("env") or []}


def container_port(container: Doc, port: int | str) -> int:
    """Resolve a probe's port (a number or a named containerPort) to a number."""
    if isinstance(port, int):
        return port
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise AssertionError(f"container {container['name']} has no port named {port!r}")


def configmap_data() -> dict[str, str]:
    return {
        key: str(value)
        for configmap in k8s_of_kind("ConfigMap")
        for key, value in (configmap.get("data") or {}).items()
    }


def deployment(svc: str, component: str) -> Doc:
    return k8s_named("Deployment", f"{svc}-{component}")


# =========================================================================== the env var checker itself


def test_env_var_check_accepts_real_fields_and_cluster_wide_vars() -> None:
    assert env_var_problem("TANDEM_FRAUD_DATABASE_URL", owner="fraud") is None
    assert env_var_problem("TANDEM_REVIEW_AUDIT_SAMPLE_RATE") is None
    assert env_var_problem("TANDEM_KAFKA_BOOTSTRAP") is None


def test_env_var_check_rejects_unknown_field_wrong_owner_and_unknown_cluster_var() -> None:
    assert env_var_problem("TANDEM_FRAUD_NO_SUCH_FIELD") is not None
    assert env_var_problem("TANDEM_REVIEW_PORT", owner="fraud") is not None
    assert env_var_problem("TANDEM_PORT") is not None


@pytest.mark.parametrize("svc", SERVICES)
def test_env_prefix_follows_service_name_for_every_service(svc: str) -> None:
    assert env_prefix(svc) == f"TANDEM_{svc.upper()}_"
    assert SETTINGS[svc].model_fields["service_name"].default == svc


# =========================================================================== docker-compose.yml


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_service_builds_own_dockerfile_from_repo_root(svc: str) -> None:
    build = compose_service(svc)["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == f"services/{svc}/Dockerfile"


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_service_exposes_settings_port_when_scaled(svc: str) -> None:
    service = compose_service(svc)
    port = str(settings_port(svc))
    assert port in [str(item) for item in service.get("expose") or []]
    assert "container_name" not in service, "container_name breaks `docker compose up --scale`"
    for mapping in service.get("ports") or []:
        assert str(mapping) == port, f"{svc}: {mapping!r} pins a host port; publish only {port!r}"


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_service_env_sets_own_port_database_and_kafka(svc: str) -> None:
    env = compose_env(compose_service(svc))
    prefix = env_prefix(svc)
    assert env[f"{prefix}PORT"] == str(settings_port(svc))
    assert env[f"{prefix}HOST"] == "0.0.0.0"
    assert env[f"{prefix}DATABASE_URL"] == f"postgresql+psycopg://tandem:tandem@postgres:5432/tandem_{svc}"
    assert env["TANDEM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env[f"{prefix}RUN_MIGRATIONS"].lower() == "false", "the one-shot `migrate` service migrates"


def test_compose_env_vars_name_real_settings_fields_in_every_container() -> None:
    checked = 0
    problems = []
    for name, service in (compose().get("services") or {}).items():
        owner = name if name in SETTINGS else None
        for var in compose_env(service):
            checked += var.startswith("TANDEM_")
            if (problem := env_var_problem(var, owner)) is not None:
                problems.append(f"{name}: {problem}")
    assert checked >= len(SERVICES) * 4, "too few TANDEM_ variables found: is the parser reading the file?"
    assert problems == []


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_service_waits_for_healthy_kafka_postgres_and_topics(svc: str) -> None:
    depends_on = compose_service(svc)["depends_on"]
    assert depends_on["kafka"]["condition"] == "service_healthy"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["topics"]["condition"] == "service_completed_successfully"
    assert compose_service("kafka").get("healthcheck", {}).get("test")
    assert compose_service("postgres").get("healthcheck", {}).get("test")


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_healthcheck_probes_ready_endpoint_on_settings_port(svc: str) -> None:
    test = " ".join(as_words(compose_service(svc)["healthcheck"]["test"]))
    assert f":{settings_port(svc)}{READY_PATH}" in test


def test_compose_kafka_runs_kraft_single_node_without_auto_topic_creation() -> None:
    kafka = compose_service("kafka")
    env = compose_env(kafka)
    assert kafka["image"] == "apache/kafka:3.9.0"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "INTERNAL://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"


def test_compose_postgres_init_creates_one_database_per_service() -> None:
    postgres = compose_service("postgres")
    assert str(postgres["image"]).startswith("postgres:16")
    mounts = [str(volume) for volume in postgres.get("volumes") or []]
    assert any(m.startswith("./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/") for m in mounts)
    created = set(re.findall(r"CREATE DATABASE\s+(\w+)", POSTGRES_INIT.read_text(), flags=re.IGNORECASE))
    assert created == {f"tandem_{svc}" for svc in SERVICES} | {"tandem_identity"}


def test_compose_topics_job_creates_topics_after_kafka_is_healthy() -> None:
    topics_job = compose_service("topics")
    assert as_words(topics_job["command"]) == ["tandem", "topics", "create"]
    assert compose_env(topics_job)["TANDEM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert topics_job["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_compose_migrate_job_migrates_every_service_database_first() -> None:
    migrate = compose_service("migrate")
    command = " ".join(as_words(migrate["command"]))
    env = compose_env(migrate)
    for svc in SERVICES:
        assert f"tandem migrate {svc}" in command
        assert env[f"{env_prefix(svc)}DATABASE_URL"].endswith(f"/tandem_{svc}")
        assert compose_service(svc)["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


# =========================================================================== Dockerfiles


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_cmd_serves_own_service_on_settings_port(svc: str) -> None:
    assert dockerfile(svc).is_file()
    (cmd,) = dockerfile_args(svc, "CMD")
    assert json.loads(cmd) == ["tandem", "serve", svc]
    assert dockerfile_args(svc, "EXPOSE") == [str(settings_port(svc))]
    env = dockerfile_env(svc)
    assert env[f"{env_prefix(svc)}HOST"] == "0.0.0.0"
    assert env.get(f"{env_prefix(svc)}PORT", str(settings_port(svc))) == str(settings_port(svc))


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_installs_package_and_models_on_slim_python(svc: str) -> None:
    assert dockerfile_args(svc, "FROM") == ["python:3.11-slim"]
    assert any("pip install --no-cache-dir ." in args for args in dockerfile_args(svc, "RUN"))
    assert any(args.split()[0] == "models" for args in dockerfile_args(svc, "COPY"))
    assert dockerfile_env(svc)["TANDEM_MODELS_DIR"] == "/app/models"


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_runs_as_non_root_user(svc: str) -> None:
    users = dockerfile_args(svc, "USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_healthcheck_probes_live_endpoint_with_urllib(svc: str) -> None:
    (healthcheck,) = dockerfile_args(svc, "HEALTHCHECK")
    assert "urllib.request" in healthcheck
    assert LIVE_PATH in healthcheck
    assert str(settings_port(svc)) in healthcheck


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_env_vars_name_real_settings_fields(svc: str) -> None:
    env = dockerfile_env(svc)
    assert any(var.startswith(env_prefix(svc)) for var in env)
    assert [problem for var in env if (problem := env_var_problem(var, svc))] == []


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".env", "var"} <= ignored
    assert "models" not in ignored


# =========================================================================== Kubernetes


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_deployment_serves_own_service_on_settings_port(svc: str, component: str) -> None:
    container = main_container(deployment(svc, component))
    assert as_words(container.get("command") or ["tandem", "serve", svc]) == ["tandem", "serve", svc]
    assert [p["containerPort"] for p in container["ports"]] == [settings_port(svc)]
    env = container_env(container)
    assert env[f"{env_prefix(svc)}PORT"]["value"] == str(settings_port(svc))
    assert env[f"{env_prefix(svc)}HOST"]["value"] == "0.0.0.0"


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_probes_hit_health_endpoints_on_settings_port(svc: str, component: str) -> None:
    container = main_container(deployment(svc, component))
    for probe, path in (("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH)):
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path, f"{probe} of {svc}-{component}"
        assert container_port(container, http_get["port"]) == settings_port(svc)
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == LIVE_PATH


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_consumer_runs_only_in_worker_deployment(svc: str, component: str) -> None:
    env = container_env(main_container(deployment(svc, component)))
    expected = "true" if component == "worker" else "false"
    assert env[f"{env_prefix(svc)}CONSUMER_ENABLED"]["value"].lower() == expected


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_migrations_run_in_init_container_not_main_container(svc: str, component: str) -> None:
    workload = deployment(svc, component)
    init_commands = [as_words(c.get("command") or []) for c in pod_spec(workload).get("initContainers") or []]
    assert ["tandem", "migrate", svc] in init_commands
    env = container_env(main_container(workload))
    assert env[f"{env_prefix(svc)}RUN_MIGRATIONS"]["value"].lower() == "false"


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_database_url_comes_from_service_secret_in_every_container(svc: str, component: str) -> None:
    for container in all_containers(deployment(svc, component)):
        entry = container_env(container)[f"{env_prefix(svc)}DATABASE_URL"]
        assert "value" not in entry, f"{container['name']}: database URL written in plain text"
        assert entry["valueFrom"]["secretKeyRef"] == {"name": f"tandem-{svc}-db", "key": "url"}


def test_k8s_env_vars_name_real_settings_fields_in_every_workload() -> None:
    checked = 0
    problems = []
    for workload in [*k8s_of_kind("Deployment"), *k8s_of_kind("Job")]:
        svc = workload["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        owner = svc if svc in SETTINGS else None
        for container in all_containers(workload):
            for var in container_env(container):
                checked += var.startswith("TANDEM_")
                if (problem := env_var_problem(var, owner)) is not None:
                    problems.append(f"{workload['metadata']['name']}/{container['name']}: {problem}")
    assert checked >= len(SERVICES) * len(COMPONENTS) * 4, "too few TANDEM_ variables found"
    assert problems == []


def test_k8s_configmap_holds_only_cluster_wide_settings() -> None:
    data = configmap_data()
    assert "TANDEM_KAFKA_BOOTSTRAP" in data
    assert set(data) <= CLUSTER_WIDE_VARS, f"not cluster-wide: {sorted(set(data) - CLUSTER_WIDE_VARS)}"


def test_k8s_env_from_references_existing_configmaps_and_secrets_only_by_key() -> None:
    configmaps = {doc["metadata"]["name"] for doc in k8s_of_kind("ConfigMap")}
    referenced = set()
    for workload in [*k8s_of_kind("Deployment"), *k8s_of_kind("Job")]:
        for container in all_containers(workload):
            for source in container.get("envFrom") or []:
                assert "secretRef" not in source, "secrets are read by key, not whole"
                referenced.add(source["configMapRef"]["name"])
    assert referenced, "no container reads the cluster-wide ConfigMap"
    assert referenced <= configmaps


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_service_routes_settings_port_to_api_pods_only(svc: str) -> None:
    service = k8s_named("Service", svc)
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == settings_port(svc)
    api = main_container(deployment(svc, "api"))
    assert container_port(api, port.get("targetPort", port["port"])) == settings_port(svc)
    selector = service["spec"]["selector"].items()
    api_labels = deployment(svc, "api")["spec"]["template"]["metadata"]["labels"].items()
    worker_labels = deployment(svc, "worker")["spec"]["template"]["metadata"]["labels"].items()
    assert selector <= api_labels
    assert not selector <= worker_labels, "the Service would also send HTTP traffic to workers"


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_hpa_scales_api_deployment_on_cpu(svc: str) -> None:
    hpa = k8s_named("HorizontalPodAutoscaler", f"{svc}-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{svc}-api",
    }
    resources = [m["resource"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"]
    assert [r["target"]["type"] for r in resources if r["name"] == "cpu"] == ["Utilization"]
    assert 1 <= hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_scaled_object_scales_worker_on_lag_of_consumed_topics(svc: str) -> None:
    scaled = k8s_named("ScaledObject", f"{svc}-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == f"{svc}-worker"
    triggers = scaled["spec"]["triggers"]
    assert {trigger["type"] for trigger in triggers} == {"kafka"}
    bootstrap = configmap_data()["TANDEM_KAFKA_BOOTSTRAP"]
    for trigger in triggers:
        metadata = trigger["metadata"]
        assert metadata["topic"] in PARTITIONS, f"{metadata['topic']} is not in shared/topics.py"
        assert metadata["consumerGroup"] == consumer_group(svc)
        assert metadata["bootstrapServers"] == bootstrap
        assert int(metadata["lagThreshold"]) > 0
        assert all(isinstance(value, str) for value in metadata.values()), "KEDA metadata values are strings"
    assert {trigger["metadata"]["topic"] for trigger in triggers} == CONSUMES[svc]


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_scaled_object_max_replicas_within_partition_count(svc: str) -> None:
    spec = k8s_named("ScaledObject", f"{svc}-worker")["spec"]
    partitions = max(PARTITIONS[trigger["metadata"]["topic"]] for trigger in spec["triggers"])
    assert 0 <= spec.get("minReplicaCount", 0) <= spec["maxReplicaCount"]
    assert spec["maxReplicaCount"] <= partitions, "replicas past the partition count would sit idle"


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_scaled_object_holds_workers_when_lag_is_unreadable_and_scales_down_slowly(svc: str) -> None:
    spec = k8s_named("ScaledObject", f"{svc}-worker")["spec"]
    assert spec.get("minReplicaCount", 0) <= spec["fallback"]["replicas"] <= spec["maxReplicaCount"]
    assert spec["fallback"]["failureThreshold"] >= 1
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    api_hpa = k8s_named("HorizontalPodAutoscaler", f"{svc}-api")["spec"]["behavior"]
    assert (
        behavior["scaleDown"]["stabilizationWindowSeconds"]
        >= api_hpa["scaleDown"]["stabilizationWindowSeconds"]
    )


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_worker_exports_the_lag_it_is_scaled_on(svc: str) -> None:
    """KEDA scales on the group's lag from the broker; the worker exports the same figure per partition
    (tandem_consumer_lag, committed vs end offsets, with never-committed partitions counted from the
    earliest offset: KEDA's offsetResetPolicy earliest), on the port Prometheus scrapes."""
    from shared.bus.health import CONSUMER_LAG

    assert CONSUMER_LAG._labelnames == ("service", "group", "topic", "partition")  # type: ignore[attr-defined]
    worker = k8s_named("Deployment", f"{svc}-worker")["spec"]["template"]
    annotations = worker["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == settings_port(svc)
    for trigger in k8s_named("ScaledObject", f"{svc}-worker")["spec"]["triggers"]:
        assert trigger["metadata"]["offsetResetPolicy"] == "earliest"


def test_k8s_hpa_and_keda_never_target_the_same_deployment() -> None:
    hpa_targets = {doc["spec"]["scaleTargetRef"]["name"] for doc in k8s_of_kind("HorizontalPodAutoscaler")}
    keda_targets = {doc["spec"]["scaleTargetRef"]["name"] for doc in k8s_of_kind("ScaledObject")}
    deployments = {doc["metadata"]["name"] for doc in k8s_of_kind("Deployment")}
    assert hpa_targets and keda_targets
    assert hpa_targets & keda_targets == set()
    assert hpa_targets | keda_targets <= deployments


def test_k8s_every_container_requests_and_limits_resources() -> None:
    workloads = [*k8s_of_kind("Deployment"), *k8s_of_kind("Job")]
    assert len(workloads) >= len(SERVICES) * len(COMPONENTS)
    for workload in workloads:
        for container in all_containers(workload):
            resources = container.get("resources") or {}
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert {"cpu", "memory"} <= set(resources.get("requests") or {}), f"{where}: no requests"
            assert "memory" in (resources.get("limits") or {}), f"{where}: no memory limit"


def test_k8s_kafka_topics_job_runs_topics_create() -> None:
    jobs = k8s_of_kind("Job")
    commands = [as_words(c.get("command") or []) for job in jobs for c in all_containers(job)]
    assert ["tandem", "topics", "create"] in commands
    for job in jobs:
        assert pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}


def test_k8s_resources_live_in_the_declared_namespace() -> None:
    namespaces = {doc["metadata"]["name"] for doc in k8s_of_kind("Namespace")}
    assert namespaces, "deploy/k8s declares no Namespace"
    for doc in k8s_docs():
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") in namespaces, f"{doc['kind']} {doc['metadata']['name']}"


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_and_compose_define_every_service(svc: str) -> None:
    assert svc in (compose().get("services") or {})
    assert {doc["metadata"]["name"] for doc in k8s_of_kind("Deployment")} >= {f"{svc}-api", f"{svc}-worker"}
    assert (K8S_DIR / f"{svc}.yaml").is_file()


def test_compose_postgres_runs_with_the_settings_the_discovery_benchmark_measures() -> None:
    """benchmarks/pg_server.py starts a server "as docker-compose.yml configures it": they must agree."""
    from benchmarks.pg_server import DEPLOYED_SETTINGS

    words = shlex.split(str(compose_service("postgres")["command"]))
    flags = dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "-c")
    flags = {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in flags.items()}  # ${VAR:-default}
    assert flags == DEPLOYED_SETTINGS


# =========================================================================== Kafka authentication and secrets

SECRET_VARS = ("TANDEM_SECRETS_KEY",)


def _from_env_without_default(value: str) -> bool:
    """`${NAME:?message}`: compose refuses to start when NAME is unset; nothing known is shipped."""
    return re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value) is not None


def test_compose_kafka_authenticates_every_listener_and_authorises_by_acl() -> None:
    env = compose_env(compose_service("kafka"))
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, "a listener without authentication"
    assert "SCRAM-SHA-512" in env["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_SUPER_USERS"] == "User:admin"
    assert "${TANDEM_KAFKA_ADMIN_PASSWORD:?" in env["KAFKA_LISTENER_NAME_INTERNAL_PLAIN_SASL_JAAS_CONFIG"]
    assert "--command-config" in " ".join(as_words(compose_service("kafka")["healthcheck"]["test"]))


@pytest.mark.parametrize("svc", SERVICES)
def test_compose_service_authenticates_to_kafka_as_itself_with_secrets_from_the_environment(svc: str) -> None:
    service = compose_service(svc)
    env = compose_env(service)
    settings = SETTINGS[svc](kafka_security_protocol=env["TANDEM_KAFKA_SECURITY_PROTOCOL"],
                             kafka_sasl_mechanism=env["TANDEM_KAFKA_SASL_MECHANISM"])  # fmt: skip
    assert str(settings.model_dump()["kafka_security_protocol"]).startswith("SASL")
    assert _from_env_without_default(env[f"{env_prefix(svc)}KAFKA_SASL_PASSWORD"])
    for var in SECRET_VARS:
        assert _from_env_without_default(env[var]), f"{svc}: {var} has a default"
    assert service["depends_on"]["kafka-users"]["condition"] == "service_completed_successfully"


def test_compose_ships_no_known_session_secret() -> None:
    assert _from_env_without_default(compose_env(compose_service("review"))["TANDEM_REVIEW_SESSION_SECRET"])


def test_compose_kafka_users_job_grants_every_service_its_user() -> None:
    job = compose_service("kafka-users")
    assert as_words(job["command"]) == ["tandem", "topics", "grant"]
    env = compose_env(job)
    for svc in SERVICES:
        assert _from_env_without_default(env[f"{env_prefix(svc)}KAFKA_SASL_PASSWORD"])
    assert env["TANDEM_KAFKA_ADMIN_USERNAME"] == "admin"
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"


def _secret_ref(container: Doc, var: str) -> dict[str, str]:
    entry = container_env(container)[var]
    assert "value" not in entry, f"{container['name']}: {var} written in plain text"
    return dict(entry["valueFrom"]["secretKeyRef"])


def test_k8s_kafka_protocol_is_authenticated_and_encrypted() -> None:
    data = configmap_data()
    assert data["TANDEM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    SETTINGS["fraud"](kafka_security_protocol=data["TANDEM_KAFKA_SECURITY_PROTOCOL"],
                      kafka_sasl_mechanism=data["TANDEM_KAFKA_SASL_MECHANISM"])  # fmt: skip


@pytest.mark.parametrize("svc", SERVICES)
@pytest.mark.parametrize("component", COMPONENTS)
def test_k8s_service_reads_its_kafka_user_and_the_secrets_key_from_secrets(svc: str, component: str) -> None:
    workload = deployment(svc, component)
    for container in all_containers(workload):
        assert _secret_ref(container, "TANDEM_SECRETS_KEY") == {
            "name": "tandem-secrets",
            "key": "secrets-key",
        }
    main = main_container(workload)
    for key in ("username", "password"):
        ref = _secret_ref(main, f"{env_prefix(svc)}KAFKA_SASL_{key.upper()}")
        assert ref == {"name": f"tandem-{svc}-kafka", "key": key}


@pytest.mark.parametrize("svc", SERVICES)
def test_k8s_keda_reads_lag_as_the_service_user(svc: str) -> None:
    auths = {doc["metadata"]["name"]: doc for doc in k8s_of_kind("TriggerAuthentication")}
    for trigger in k8s_named("ScaledObject", f"{svc}-worker")["spec"]["triggers"]:
        assert trigger["metadata"]["sasl"] == "scram_sha512" and trigger["metadata"]["tls"] == "enable"
        auth = auths[trigger["authenticationRef"]["name"]]
        refs = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
        assert refs == {
            "username": (f"tandem-{svc}-kafka", "username"),
            "password": (f"tandem-{svc}-kafka", "password"),
        }


def test_k8s_topics_job_also_grants_every_service_its_user() -> None:
    job = k8s_named("Job", "tandem-kafka-topics")
    grant = [
        c for c in all_containers(job) if as_words(c.get("command") or []) == ["tandem", "topics", "grant"]
    ]
    assert len(grant) == 1
    assert _secret_ref(grant[0], "TANDEM_KAFKA_ADMIN_PASSWORD") == {
        "name": "tandem-kafka-admin",
        "key": "password",
    }
    for svc in SERVICES:
        assert _secret_ref(grant[0], f"{env_prefix(svc)}KAFKA_SASL_PASSWORD")["name"] == f"tandem-{svc}-kafka"


def test_env_example_names_only_real_settings() -> None:
    names = [line.split("=", 1)[0] for line in (REPO / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]  # fmt: skip
    assert "TANDEM_SECRETS_KEY" in names and "TANDEM_REVIEW_SESSION_SECRET" in names
    assert [p for n in names if (p := env_var_problem(n)) is not None] == []
