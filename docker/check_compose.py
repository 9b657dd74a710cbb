#!/usr/bin/env python3
"""Checks docker/compose.yaml and docker/nginx.conf without a Docker engine.

What a typo would break only at `docker compose up`: two API services of the same image and
configuration, pointed at the mongo and redis services by name; a replica-set MongoDB whose init
step names the same set and host as the API's URL; a balancer that publishes the API's ports and
whose config names both instances as upstreams (sticky for Socket.IO), at a fixed address inside
the network's subnet that the API trusts, and no other, for X-Forwarded-For. With nginx installed it
also runs `nginx -t` on the config (service names replaced by 127.0.0.1, which Docker's DNS would
resolve). Exits non-zero naming every failed check. Needs PyYAML (skipped loudly without it,
except under CI).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
API_SERVICES = ("api-1", "api-2")


def load_compose():
    try:
        import yaml
    except ImportError:
        why = "PyYAML is not installed (apt install python3-yaml, or pip install pyyaml)"
        if os.environ.get("CI"):
            print(f"check_compose: {why}; CI must run this check", file=sys.stderr)
            sys.exit(2)
        print(f"check_compose: WARNING: {why}; docker/compose.yaml was NOT checked", file=sys.stderr)
        sys.exit(0)
    with open(os.path.join(HERE, "compose.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def check(compose, nginx_conf):
    """The list of failures (empty when everything holds)."""
    failures = []

    def expect(condition, message):
        if not condition:
            failures.append(message)

    services = compose.get("services", {})
    for name in ("mongo", "redis", "balancer", *API_SERVICES):
        expect(name in services, f"no service {name}")
    if failures:
        return failures

    apis = [services[name] for name in API_SERVICES]
    expect(apis[0].get("image") == apis[1].get("image"), "api-1 and api-2 run different images")
    expect(apis[0].get("build") == apis[1].get("build"), "api-1 and api-2 build differently")
    expect(
        apis[0].get("environment") == apis[1].get("environment"),
        "api-1 and api-2 are configured differently",
    )
    build = apis[0].get("build") or {}
    dockerfile = os.path.normpath(
        os.path.join(HERE, build.get("context", "."), build.get("dockerfile", "Dockerfile"))
    )
    expect(os.path.isfile(dockerfile), f"the build's Dockerfile {dockerfile} does not exist")

    env = apis[0].get("environment", {})
    database = str(env.get("STOCKROOM_DATABASE_URL", ""))
    match = re.fullmatch(r"mongodb://([\w-]+):(\d+)/\w+\?(?:.*&)?replicaSet=(\w+)(?:&.*)?", database)
    expect(match is not None, f"STOCKROOM_DATABASE_URL {database!r} is not a replica-set URL")
    if match:
        host, port, replica_set = match.groups()
        expect(host == "mongo", f"the database URL names host {host}, not the mongo service")
        mongo = services["mongo"]
        command = mongo.get("command", [])
        expect(
            "--replSet" in command and command[command.index("--replSet") + 1] == replica_set,
            f"mongo does not run as replica set {replica_set}: {command}",
        )
        expect("--bind_ip_all" in command, "mongo listens on localhost only")
        init = " ".join(str(part) for part in mongo.get("healthcheck", {}).get("test", []))
        expect("rs.initiate" in init, "no replica-set init step in mongo's healthcheck")
        expect(f"_id: '{replica_set}'" in init, f"the init step does not initiate {replica_set}")
        expect(f"host: 'mongo:{port}'" in init, f"the init step does not name mongo:{port}")
    redis_url = str(env.get("STOCKROOM_REDIS_URL", ""))
    expect(
        re.fullmatch(r"redis://redis:\d+/?", redis_url) is not None,
        f"STOCKROOM_REDIS_URL {redis_url!r} does not name the redis service",
    )
    expect("STOCKROOM_JWT_SECRET" in env, "STOCKROOM_JWT_SECRET is not passed to the API")

    for api in apis:
        depends = api.get("depends_on", {})
        for backing in ("mongo", "redis"):
            expect(
                depends.get(backing, {}).get("condition") == "service_healthy",
                f"an API instance does not wait for {backing} to be healthy",
            )
        expect("ports" not in api, "an API instance publishes ports itself (only the balancer may)")

    http_port = str(env.get("STOCKROOM_HTTP_ADDR", "0.0.0.0:8080")).rsplit(":", 1)[1]
    socket_port = str(env.get("STOCKROOM_SOCKET_ADDR", "0.0.0.0:8081")).rsplit(":", 1)[1]
    balancer = services["balancer"]
    published = {str(p).rsplit(":", 1)[-1] for p in balancer.get("ports", [])}
    expect({http_port, socket_port} <= published, f"the balancer publishes {published}")
    mounts = [str(v).split(":")[0] for v in balancer.get("volumes", [])]
    expect("./nginx.conf" in mounts, "the balancer does not mount ./nginx.conf")
    expect(set(balancer.get("depends_on", [])) >= set(API_SERVICES), "the balancer starts before the API")

    expect_trusted_balancer(compose, env, balancer, expect)

    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", nginx_conf))
    for port in (http_port, socket_port):
        serving = [body for body in upstreams.values() if all(f"{s}:{port}" in body for s in API_SERVICES)]
        expect(serving, f"no nginx upstream names both {API_SERVICES} on port {port}")
        if port == socket_port and serving:
            expect("ip_hash" in serving[0], "the Socket.IO upstream is not sticky (ip_hash)")
    for port in (http_port, socket_port):
        expect(re.search(rf"listen\s+{port}\s*;", nginx_conf), f"nginx does not listen on {port}")
    expect("proxy_set_header Upgrade" in nginx_conf, "nginx does not pass WebSocket upgrades")
    return failures


def expect_trusted_balancer(compose, env, balancer, expect):
    """The API believes X-Forwarded-For from the balancer's fixed address and from nothing else."""
    import ipaddress

    trusted = [t.strip() for t in str(env.get("STOCKROOM_TRUSTED_PROXIES", "")).split(",") if t.strip()]
    networks = balancer.get("networks") or {}
    if not isinstance(networks, dict) or len(networks) != 1:
        expect(False, "the balancer is not on exactly one network with a fixed address")
        return
    (name, settings), = networks.items()
    address = (settings or {}).get("ipv4_address")
    expect(address is not None, "the balancer has no fixed ipv4_address")
    expect(trusted == [address], f"the API trusts {trusted}, not exactly the balancer's {address}")
    subnets = [
        c.get("subnet")
        for c in ((compose.get("networks") or {}).get(name) or {}).get("ipam", {}).get("config", [])
    ]
    expect(
        address is not None
        and any(ipaddress.ip_address(address) in ipaddress.ip_network(s) for s in subnets if s),
        f"the balancer's address {address} is outside network {name}'s subnets {subnets}",
    )
    for service in ("mongo", "redis", *API_SERVICES):
        on = (compose["services"][service].get("networks")) or []
        expect(name in on, f"{service} is not on the balancer's network {name}")


def nginx_syntax(nginx_conf):
    """`nginx -t` on the config, or None when nginx is not installed."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        return None
    local = nginx_conf
    for name in API_SERVICES:
        local = local.replace(f"{name}:", "127.0.0.1:")
    with tempfile.TemporaryDirectory() as prefix:
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(local)
        run = subprocess.run(
            [nginx, "-t", "-p", prefix, "-c", path, "-g", f"pid {prefix}/nginx.pid;"],
            capture_output=True,
            text=True,
        )
    return run.returncode, (run.stdout + run.stderr).strip()


def self_test(compose, nginx_conf):
    """The checks catch the mistakes they exist for: each mutation of the real files must fail."""
    import copy

    def mutated(change):
        broken = copy.deepcopy(compose)
        change(broken["services"])
        return broken

    def other_redis(services):
        services["api-2"] = copy.deepcopy(services["api-2"])
        services["api-2"]["environment"]["STOCKROOM_REDIS_URL"] = "redis://localhost:6379"

    def trust_everyone(services):
        for api in API_SERVICES:
            services[api] = copy.deepcopy(services[api])
            services[api]["environment"]["STOCKROOM_TRUSTED_PROXIES"] = "0.0.0.0/0"

    cases = {
        "trusting every address": (mutated(trust_everyone), nginx_conf),
        "a balancer without a fixed address": (
            mutated(lambda s: s["balancer"].update(networks=["stockroom"])),
            nginx_conf,
        ),
        "one API instance": (mutated(lambda s: s.pop("api-2")), nginx_conf),
        "instances configured apart": (mutated(other_redis), nginx_conf),
        "no replica set": (mutated(lambda s: s["mongo"].update(command=["mongod"])), nginx_conf),
        "no sticky Socket.IO": (compose, nginx_conf.replace("ip_hash;", "")),
        "one upstream": (compose, nginx_conf.replace("server api-2:8081", "server api-1:8081")),
    }
    for what, (c, n) in cases.items():
        if not check(c, n):
            print(f"check_compose: self-test: '{what}' was not caught", file=sys.stderr)
            sys.exit(1)


def main():
    compose = load_compose()
    with open(os.path.join(HERE, "nginx.conf"), encoding="utf-8") as f:
        nginx_conf = f.read()
    self_test(compose, nginx_conf)
    failures = check(compose, nginx_conf)
    syntax = nginx_syntax(nginx_conf)
    if syntax is None:
        print("check_compose: nginx is not installed; skipping nginx -t")
    elif syntax[0] != 0:
        failures.append(f"nginx -t failed: {syntax[1]}")
    else:
        print("check_compose: nginx -t: ok")
    for failure in failures:
        print(f"check_compose: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("check_compose: docker/compose.yaml and docker/nginx.conf: ok")


if __name__ == "__main__":
    main()
