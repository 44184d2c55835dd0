#!/usr/bin/env bash
# deploy/docker-compose.yml: valid for docker-compose (schema, offline), its
# bind mounts exist, and it wires the same files together: Prometheus scrapes
# the videogen service's metrics port, Grafana's data source is the
# prometheus service, the dashboard provider path is where the dashboards are
# mounted.
# Run from the repository root with NODE_PATH set (see CMakeLists.txt).
set -euo pipefail
command -v docker-compose >/dev/null || { echo "docker-compose not found (Debian package: docker-compose)" >&2; exit 1; }
docker-compose -f deploy/docker-compose.yml config -q
docker-compose -f deploy/docker-compose.yml --profile fleet config -q
node - <<'JS'
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const compose = YAML.parse(fs.readFileSync("deploy/docker-compose.yml", "utf8"), { merge: true });
const problems = [];
const mounts = {};
for (const [name, svc] of Object.entries(compose.services)) {
  for (const v of svc.volumes || []) {
    const [src, dst] = v.split(":");
    if (src.startsWith(".")) {
      if (!fs.existsSync(path.join("deploy", src))) problems.push(`${name}: mount source ${src} does not exist`);
      mounts[dst] = path.join("deploy", src);
    }
  }
}
const prom = YAML.parse(fs.readFileSync("deploy/prometheus/prometheus.yml", "utf8"));
const job = prom.scrape_configs.find((j) => j.job_name === "videogen");
const target = job.static_configs[0].targets[0];
const [host, port] = target.split(":");
const vg = compose.services[host];
if (!vg) problems.push(`prometheus.yml scrapes ${target}, but there is no compose service ${host}`);
else {
  const listen = (vg.environment || {}).VIDEOGEN_METRICS_LISTEN || "0.0.0.0:9090";
  if (!listen.endsWith(`:${port}`)) problems.push(`${host} serves metrics on ${listen}, prometheus.yml scrapes port ${port}`);
  if (!(vg.expose || []).map(String).includes(port) && !(vg.ports || []).some((p) => String(p).endsWith(`:${port}`)))
    problems.push(`${host} does not expose the metrics port ${port}`);
}
const ds = YAML.parse(fs.readFileSync("deploy/grafana/provisioning/datasources/prometheus.yml", "utf8")).datasources[0];
if (!/^http:\/\/prometheus:9090\/?$/.test(ds.url) || !compose.services.prometheus) problems.push(`Grafana data source ${ds.url} is not the prometheus service`);
const provider = YAML.parse(fs.readFileSync("deploy/grafana/provisioning/dashboards/videogen.yml", "utf8")).providers[0];
const dashDir = mounts[provider.options.path];
if (!dashDir || !fs.existsSync(path.join(dashDir, "videogen.json")))
  problems.push(`dashboard provider path ${provider.options.path} is not the mounted deploy/grafana/dashboards`);
if (!mounts["/etc/prometheus"] || !fs.existsSync(path.join(mounts["/etc/prometheus"], "prometheus.yml")))
  problems.push("deploy/prometheus is not mounted at /etc/prometheus");
// Profile fleet: servers on the postgres service's job store, started once it is healthy.
const pg = compose.services.postgres;
const fleet = Object.entries(compose.services).filter(([, s]) => (s.environment || {}).VIDEOGEN_JOB_STORE);
if (!pg || !(pg.profiles || []).includes("fleet")) problems.push("no postgres service in profile fleet");
if (fleet.length < 2) problems.push(`profile fleet: expected at least 2 servers on the job store, found ${fleet.length}`);
const ids = new Set();
for (const [name, s] of fleet) {
  const env = s.environment;
  if (!/^postgres(ql)?:\/\/[^@]+@postgres:5432\//.test(env.VIDEOGEN_JOB_STORE)) problems.push(`${name}: VIDEOGEN_JOB_STORE is not the postgres service`);
  if (!(s.profiles || []).includes("fleet")) problems.push(`${name}: not in profile fleet`);
  if (((s.depends_on || {}).postgres || {}).condition !== "service_healthy") problems.push(`${name}: must wait for postgres to be healthy`);
  if (!env.VIDEOGEN_REPLICA_ID || ids.has(env.VIDEOGEN_REPLICA_ID)) problems.push(`${name}: needs a VIDEOGEN_REPLICA_ID of its own`);
  ids.add(env.VIDEOGEN_REPLICA_ID);
}
for (const p of problems) console.error(`FAIL: ${p}`);
process.exitCode = problems.length ? 1 : 0;
JS
echo "compose_test: ok"
