"""The Docker rules that can be checked without a Docker engine (used by scripts/validate.sh).

No Docker engine runs on the development machines or in CI, so `docker compose up` is never
run here. This checks what can be checked from the files: both compose files interpolated as
compose does (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`)
for the documented commands, and the rules of issue 13: production refuses to start without
JWT_SECRET and TWOFACTOR_API_KEY, development runs the mock OTP with neither; a supported
MongoDB (7.0 or 8.0); the mongo healthcheck is true only on a writable primary; the API waits
for it; `restart: unless-stopped` everywhere; `.dockerignore` keeps target/.cache/.data/.env
out; the Dockerfile builds with `--locked` after a dependency layer.
Schema validity (compose-spec) is checked separately by check-jsonschema.

Usage: check_compose.py   (from the repository root; exits 1 with the list of failures)
"""

import re
import sys

import yaml

FAIL = []


def check(cond, text):
    if not cond:
        FAIL.append(text)


class Missing(Exception):
    pass


VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(node, env):
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def sub(m):
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        val = env.get(name)
        unset_or_empty = val is None or (op is not None and op.startswith(":") and val == "")
        if op in (":-", "-"):
            return arg if unset_or_empty else val
        if op in (":?", "?"):
            if unset_or_empty:
                raise Missing(f"{name}: {arg}")
            return val
        return val or ""

    return VAR.sub(sub, node)


def load(path, env):
    with open(path) as f:
        raw = yaml.safe_load(f)
    return interpolate(raw, env)


def common(path, doc):
    services = doc.get("services", {})
    check({"mongo", "api"} <= set(services), f"{path}: services mongo and api")
    for name, svc in services.items():
        check(svc.get("restart") == "unless-stopped", f"{path}: {name} has restart: unless-stopped")
    mongo = services.get("mongo", {})
    image = mongo.get("image", "")
    check(re.fullmatch(r"mongo:(7\.0|8\.0)(\.\d+)?", image) is not None, f"{path}: mongo image 7.0 or 8.0 (got {image})")
    hc = " ".join(mongo.get("healthcheck", {}).get("test", []))
    check("isWritablePrimary" in hc and "quit(" in hc, f"{path}: mongo healthcheck exits non-zero until a writable primary exists")
    check("rs.initiate" in hc, f"{path}: mongo healthcheck initiates the replica set")
    api = services.get("api", {})
    dep = api.get("depends_on", {}).get("mongo", {})
    check(dep.get("condition") == "service_healthy", f"{path}: api waits for mongo to be healthy")
    check("replicaSet=rs0" in api.get("environment", {}).get("MONGO_URL", ""), f"{path}: api connects to the replica set")
    check(bool(api.get("healthcheck")), f"{path}: api has a healthcheck")
    return api.get("environment", {})


# production: both secrets required, refused without either
secrets = {"JWT_SECRET": "x" * 40, "TWOFACTOR_API_KEY": "key"}
for missing in secrets:
    env = {k: v for k, v in secrets.items() if k != missing}
    try:
        load("docker-compose.yml", env)
        FAIL.append(f"docker-compose.yml: starts without {missing}")
    except Missing as e:
        check(str(e).startswith(missing), f"docker-compose.yml: the error names {missing} ({e})")
prod = common("docker-compose.yml", load("docker-compose.yml", secrets))
check(prod.get("APP_ENV") == "production", "docker-compose.yml: APP_ENV=production")
check(prod.get("OTP_PROVIDER") == "twofactor", "docker-compose.yml: OTP_PROVIDER=twofactor")
check(prod.get("TWOFACTOR_API_KEY") == "key", "docker-compose.yml: passes TWOFACTOR_API_KEY")

# development: starts with an empty environment, mock OTP on, labelled
dev_doc = load("docker-compose.dev.yml", {})
dev = common("docker-compose.dev.yml", dev_doc)
check(dev.get("APP_ENV") == "development", "docker-compose.dev.yml: APP_ENV=development")
check(dev.get("OTP_PROVIDER") == "console", "docker-compose.dev.yml: OTP_PROVIDER=console (mock OTP)")
label = str(dev_doc["services"]["api"].get("labels", {}))
check("mock OTP" in label, "docker-compose.dev.yml: the api service is labelled as mock OTP")
check(dev_doc.get("name") != load("docker-compose.yml", secrets).get("name"), "dev and production use different project names (volumes)")

ignored = {l.strip().rstrip("/") for l in open(".dockerignore") if l.strip() and not l.startswith("#")}
for p in ("target", ".cache", ".data", ".env", ".git"):
    check(p in ignored, f".dockerignore lists {p}")

docker = open("Dockerfile").read()
builds = re.findall(r"cargo build[^\n&]*", docker)
check(len(builds) == 2 and all("--locked" in b for b in builds), "Dockerfile: two cargo builds (dependencies, then the crate), both --locked")
check(docker.find("COPY Cargo.toml Cargo.lock") < docker.find("COPY src"), "Dockerfile: the dependency layer comes before COPY src")

if FAIL:
    print("compose/Docker rules FAILED:")
    for f in FAIL:
        print("  -", f)
    sys.exit(1)
print("compose/Docker rules: ok (production refuses to start without JWT_SECRET or TWOFACTOR_API_KEY; development starts with mock OTP)")
