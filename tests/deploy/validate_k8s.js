#!/usr/bin/env node
// Validates the manifests rendered by `kubectl kustomize deploy/k8s/<overlay>`:
//  1. schema: every object against the Kubernetes OpenAPI schemas (npm
//     kubernetes-models) and the prometheus-operator / KEDA CRD schemas
//     (@kubernetes-models/prometheus-operator, @kubernetes-models/keda);
//  2. unknown fields: every object type-checked by TypeScript against the same
//     models' type definitions (excess-property checks catch typos such as
//     "failureThresold", which the schemas allow);
//  3. the deployment contract of deploy/README.md (probes, security context,
//     drain vs grace period, references, GPU sizing for the gpu overlay, ...).
//
//   validate_k8s.js RENDERED.yaml base|cpu-demo|gpu|fleet|grafana   (from the repository root)
// Needs NODE_PATH pointing at the node_modules installed by setup_node_tools.sh.
// Exit status 0 when valid; 1 with every problem on stderr.
"use strict";

const fs = require("fs");

const path = require("path");
const { spawnSync } = require("child_process");
const YAML = require("yaml");

// apiVersion -> [npm package, path prefix]; the module is <prefix>/<Kind>.
const MODEL_PACKAGES = {
  "monitoring.coreos.com/": "@kubernetes-models/prometheus-operator",
  "keda.sh/": "@kubernetes-models/keda",
};

function modelModule(apiVersion, kind) {
  for (const [prefix, pkg] of Object.entries(MODEL_PACKAGES)) {
    if (apiVersion.startsWith(prefix)) return `${pkg}/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function schemaProblems(docs) {
  const problems = [];
  for (const d of docs) {
    const where = `${d.kind}/${d.metadata && d.metadata.name}`;
    let Model;
    try {
      Model = require(modelModule(d.apiVersion, d.kind))[d.kind];
    } catch (err) {
      problems.push(`${where}: no schema for ${d.apiVersion} ${d.kind}`);
      continue;
    }
    try {
      new Model(d).validate();
    } catch (err) {
      problems.push(`${where}: ${err.message}`);
    }
  }
  return problems;
}

function unknownFieldProblems(docs) {
  // The .ts file must sit below the node_modules it imports from.
  const modules = process.env.NODE_PATH.split(path.delimiter)[0];
  const dir = fs.mkdtempSync(path.join(path.dirname(modules), "tscheck-"));
  const lines = [];
  docs.forEach((d, i) => {
    const mod = modelModule(d.apiVersion, d.kind);
    lines.push(`import type { I${d.kind} as T${i} } from "${mod}";`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(d)};`);
  });
  const file = path.join(dir, "manifests.ts");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const tsc = require.resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext",
    "--moduleResolution", "nodenext", "--pretty", "false", file], { encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status === 0) return [];
  return (r.stdout + r.stderr).split("\n").filter((l) => /error TS/.test(l)).map((l) => {
    const m = /manifests\.ts\((\d+),\d+\): (.*)$/.exec(l);
    if (!m) return l;
    const d = docs[Math.floor((Number(m[1]) - 1) / 2)];
    return `${d.kind}/${d.metadata.name}: ${m[2]}`;
  });
}

// promtool's verdict on one PromQL expression (as a recording rule): null if
// it parses, else the error text.
function promtoolParse(expr) {
  const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "promql-"));
  const f = path.join(dir, "q.yml");
  fs.writeFileSync(f, YAML.stringify({ groups: [{ name: "q", rules: [{ record: "keda:query", expr }] }] }));
  const r = spawnSync("promtool", ["check", "rules", f], { encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.error) return `promtool: ${r.error.message}`;
  return r.status === 0 ? null : (r.stdout + r.stderr).trim();
}

// --- deployment contract --------------------------------------------------

// --drain-timeout takes seconds as a plain number (videogen-server --help).
function seconds(s) {
  return /^\d+(\.\d+)?$/.test(String(s)) ? Number(s) : NaN;
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels[k] === v);
}

// The fleet overlay's PostgreSQL (app.kubernetes.io/component: database) has
// a contract of its own (fleetProblems); the server's ignores its objects.
const isDatabase = (d) => ((d.metadata || {}).labels || {})["app.kubernetes.io/component"] === "database";

function contractProblems(allDocs, overlay) {
  const P = [];
  const docs = allDocs.filter((d) => !isDatabase(d));
  const byKind = (k) => docs.filter((d) => d.kind === k);
  const named = (k, n) => docs.find((d) => d.kind === k && d.metadata.name === n);
  // The server runs as one StatefulSet: each replica has a durable state
  // directory on a claim of its own (volumeClaimTemplates).
  if (byKind("Deployment").length) P.push("the server must be a StatefulSet, not a Deployment (per-replica state)");
  const sets = byKind("StatefulSet");
  if (sets.length !== 1) return [...P, `expected one StatefulSet, found ${sets.length}`];
  const dep = sets[0];
  const ns = dep.metadata.namespace;
  const pod = dep.spec.template.spec;
  const podLabels = dep.spec.template.metadata.labels;
  if (!matches(dep.spec.selector.matchLabels, podLabels)) P.push("StatefulSet selector does not match its pod labels");
  const governing = named("Service", dep.spec.serviceName);
  if (!governing || governing.spec.clusterIP !== "None")
    P.push(`StatefulSet serviceName ${dep.spec.serviceName} must be the rendered headless Service`);
  const stateClaim = (dep.spec.volumeClaimTemplates || []).find((t) => t.metadata.name === "state");
  if (!stateClaim) P.push("StatefulSet needs a volumeClaimTemplate named state");
  else {
    if (!(stateClaim.spec.accessModes || []).includes("ReadWriteOnce") || stateClaim.spec.accessModes.length !== 1)
      P.push("the state claim must be ReadWriteOnce only (one server per state directory)");
    if (!((stateClaim.spec.resources || {}).requests || {}).storage) P.push("the state claim needs a storage request");
  }
  const c = pod.containers.find((x) => x.name === "server");
  if (!c) return [...P, 'no container "server"'];
  const grpcPort = (c.ports.find((p) => p.name === "grpc") || {}).containerPort;
  const metricsPort = (c.ports.find((p) => p.name === "metrics") || {}).containerPort;
  if (!grpcPort || !metricsPort) P.push("container needs ports named grpc and metrics");

  // Config: the ConfigMap the container reads exists and sets the listen ports.
  const cmRef = (c.envFrom || []).map((e) => e.configMapRef && e.configMapRef.name).find(Boolean);
  const cm = cmRef && named("ConfigMap", cmRef);
  if (!cm) P.push(`container reads ConfigMap ${cmRef}, which is not rendered`);
  const env = (cm && cm.data) || {};
  if (env.VIDEOGEN_LISTEN !== `0.0.0.0:${grpcPort}`) P.push(`VIDEOGEN_LISTEN ${env.VIDEOGEN_LISTEN} != port grpc ${grpcPort}`);
  if (env.VIDEOGEN_METRICS_LISTEN !== `0.0.0.0:${metricsPort}`)
    P.push(`VIDEOGEN_METRICS_LISTEN ${env.VIDEOGEN_METRICS_LISTEN} != port metrics ${metricsPort}`);
  if (env.VIDEOGEN_MODEL && env.VIDEOGEN_MODEL_DIR) P.push("both VIDEOGEN_MODEL and VIDEOGEN_MODEL_DIR are set");

  // Probes: native gRPC on the gRPC port; startup budget >= 5 minutes.
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const p = c[probe];
    if (!p || !p.grpc || p.grpc.port !== grpcPort) P.push(`${probe} must be a gRPC probe on port ${grpcPort}`);
  }
  if (c.startupProbe && c.startupProbe.periodSeconds * c.startupProbe.failureThreshold < 300)
    P.push("startupProbe allows less than 5 minutes for loading");

  // Drain: grace period > drain timeout + preStop delay.
  const drain = seconds(env.VIDEOGEN_DRAIN_TIMEOUT);
  if (Number.isNaN(drain)) P.push(`VIDEOGEN_DRAIN_TIMEOUT "${env.VIDEOGEN_DRAIN_TIMEOUT}" must be a number of seconds`);
  const preStop = (((c.lifecycle || {}).preStop || {}).exec || {}).command || [];
  const preStopDelay = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
  if (!(pod.terminationGracePeriodSeconds > drain + preStopDelay))
    P.push(`terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} must exceed drain ${drain}s + preStop ${preStopDelay}s`);

  // Security (the "restricted" Pod Security Standard and more).
  const psc = pod.securityContext || {};
  const csc = c.securityContext || {};
  if (!(csc.runAsNonRoot || psc.runAsNonRoot)) P.push("runAsNonRoot is not set");
  if ((csc.runAsUser ?? psc.runAsUser) === 0) P.push("runs as uid 0");
  if (csc.readOnlyRootFilesystem !== true) P.push("readOnlyRootFilesystem must be true");
  if (csc.allowPrivilegeEscalation !== false) P.push("allowPrivilegeEscalation must be false");
  if (csc.privileged) P.push("container is privileged");
  if (!((csc.capabilities || {}).drop || []).includes("ALL")) P.push("capabilities must drop ALL");
  if (((csc.seccompProfile || psc.seccompProfile) || {}).type !== "RuntimeDefault") P.push("seccompProfile must be RuntimeDefault");
  if (pod.automountServiceAccountToken !== false) P.push("automountServiceAccountToken must be false");
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) P.push("host namespaces are used");

  // Resources.
  const res = c.resources || {};
  if (!res.requests || !res.requests.cpu || !res.requests.memory) P.push("cpu and memory requests are required");
  if (!res.limits || !res.limits.memory) P.push("a memory limit is required");

  // Volumes: references resolve (pod volumes or claim templates); weights and
  // secrets read-only; the state claim holds the image's state directory.
  const vols = Object.fromEntries((pod.volumes || []).map((v) => [v.name, v]));
  const templates = new Set((dep.spec.volumeClaimTemplates || []).map((t) => t.metadata.name));
  for (const m of c.volumeMounts || []) {
    if (!vols[m.name] && !templates.has(m.name)) P.push(`volumeMount ${m.name} has no volume`);
    if (vols[m.name] && templates.has(m.name)) P.push(`volume ${m.name} shadows its claim template`);
  }
  const mount = (n) => (c.volumeMounts || []).find((m) => m.name === n) || {};
  if (mount("state").mountPath !== "/var/lib/videogen" || mount("state").readOnly)
    P.push("the state claim must be mounted read-write at /var/lib/videogen (the image's VIDEOGEN_STATE_DIR)");
  for (const v of pod.volumes || []) {
    if (v.persistentVolumeClaim) {
      const pvc = named("PersistentVolumeClaim", v.persistentVolumeClaim.claimName);
      if (!pvc) P.push(`volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is not rendered`);
      if (!v.persistentVolumeClaim.readOnly || !mount(v.name).readOnly) P.push(`volume ${v.name}: the claim must be mounted read-only`);
      if (pvc && !pvc.spec.accessModes.includes("ReadOnlyMany")) P.push(`claim ${pvc.metadata.name} must be ReadOnlyMany`);
    }
    if (v.secret && !mount(v.name).readOnly) P.push(`secret volume ${v.name} must be mounted read-only`);
  }
  const secretNames = (pod.volumes || []).filter((v) => v.secret).map((v) => v.secret.secretName);
  for (const s of ["videogen-auth", "videogen-tls"]) if (!secretNames.includes(s)) P.push(`Secret ${s} is not mounted`);
  if (env.VIDEOGEN_AUTH_TOKEN_FILE) {
    const authMount = mount("auth").mountPath;
    if (!authMount || !env.VIDEOGEN_AUTH_TOKEN_FILE.startsWith(authMount + "/"))
      P.push(`VIDEOGEN_AUTH_TOKEN_FILE ${env.VIDEOGEN_AUTH_TOKEN_FILE} is not in the auth Secret mount`);
  }
  if (pod.serviceAccountName && !named("ServiceAccount", pod.serviceAccountName))
    P.push(`ServiceAccount ${pod.serviceAccountName} is not rendered`);

  // Services, PDB, NetworkPolicy, monitoring.
  const svcs = byKind("Service");
  const clusterIp = svcs.filter((s) => s.spec.clusterIP !== "None");
  const headless = svcs.filter((s) => s.spec.clusterIP === "None");
  if (clusterIp.length !== 1 || headless.length !== 1) P.push("expected one ClusterIP and one headless Service");
  for (const s of svcs) {
    if (!matches(s.spec.selector, podLabels) || Object.keys(s.spec.selector || {}).length === 0)
      P.push(`Service ${s.metadata.name} does not select the server pods`);
    for (const p of s.spec.ports) {
      if (!c.ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort))
        P.push(`Service ${s.metadata.name} port ${p.name}: targetPort ${p.targetPort} is not a container port`);
    }
  }
  if (clusterIp[0] && !clusterIp[0].spec.ports.some((p) => p.name === "metrics")) P.push("ClusterIP Service lacks the metrics port");
  const pdb = byKind("PodDisruptionBudget")[0];
  if (!pdb || !matches(pdb.spec.selector.matchLabels, podLabels)) P.push("PodDisruptionBudget missing or not selecting the pods");
  const np = byKind("NetworkPolicy")[0];
  if (!np || !matches(np.spec.podSelector.matchLabels, podLabels)) P.push("NetworkPolicy missing or not selecting the pods");
  const sm = byKind("ServiceMonitor")[0];
  if (!sm) P.push("ServiceMonitor missing");
  else {
    const selected = svcs.filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels || {}));
    if (selected.length !== 1 || selected[0].spec.clusterIP === "None")
      P.push(`ServiceMonitor must select exactly the ClusterIP Service (selects ${selected.map((s) => s.metadata.name)})`);
    if (!sm.spec.endpoints.every((e) => e.port === "metrics")) P.push("ServiceMonitor must scrape the metrics port");
  }
  if (byKind("PrometheusRule").length !== 1) P.push("PrometheusRule missing");

  // Overlay-specific requirements.
  const gpu = (res.limits || {})["nvidia.com/gpu"];
  if (overlay === "gpu") {
    if (String(gpu) !== "1") P.push("gpu overlay: limits nvidia.com/gpu must be 1");
    if (!(pod.tolerations || []).some((t) => t.key === "nvidia.com/gpu")) P.push("gpu overlay: toleration for nvidia.com/gpu missing");
    if (!pod.nodeSelector || Object.keys(pod.nodeSelector).length === 0) P.push("gpu overlay: nodeSelector missing");
    if (!env.VIDEOGEN_MODEL_DIR || !env.VIDEOGEN_MODEL_DIR.startsWith(mount("models").mountPath + "/"))
      P.push("gpu overlay: VIDEOGEN_MODEL_DIR must be on the models volume");
    if (!/^cuda:/.test(env.VIDEOGEN_DEVICES || "")) P.push("gpu overlay: VIDEOGEN_DEVICES must name CUDA devices");
    const so = byKind("ScaledObject")[0];
    if (!so) P.push("gpu overlay: KEDA ScaledObject missing");
    else {
      const target = so.spec.scaleTargetRef;
      if (target.name !== dep.metadata.name || target.kind !== "StatefulSet")
        P.push("ScaledObject does not target the StatefulSet (scaleTargetRef kind and name)");
      const trig = so.spec.triggers.find((t) => t.type === "prometheus");
      if (!trig || !/videogen_queue_depth/.test(trig.metadata.query)) P.push("ScaledObject needs a prometheus trigger on videogen_queue_depth");
      else {
        for (const p of require("./promql.js").nameProblems(trig.metadata.query)) P.push(`ScaledObject query: ${p}`);
        const parse = promtoolParse(trig.metadata.query);
        if (parse) P.push(`ScaledObject query does not parse: ${parse}`);
        const nss = [...trig.metadata.query.matchAll(/namespace\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
        const sums = (trig.metadata.query.match(/videogen_[a-z_]+\{/g) || []).length;
        if (nss.length !== sums || nss.some((n) => n !== ns))
          P.push(`ScaledObject query must select namespace="${ns}" (the overlay's namespace) in every selector`);
      }
    }
  } else {
    if (gpu) P.push(`${overlay}: must not request GPUs`);
  }
  if (overlay === "cpu-demo") {
    if (env.VIDEOGEN_MODEL !== "tiny") P.push("cpu-demo: VIDEOGEN_MODEL must be tiny");
    if (byKind("PersistentVolumeClaim").length) P.push("cpu-demo: no PersistentVolumeClaim expected");
  }
  if (overlay !== "base") {
    const nsObj = named("Namespace", ns);
    if (!nsObj) P.push(`Namespace ${ns} is not rendered`);
    else if (nsObj.metadata.labels["pod-security.kubernetes.io/enforce"] !== "restricted")
      P.push(`Namespace ${ns} must enforce the restricted Pod Security Standard`);
    for (const d of allDocs) {
      if (d.kind !== "Namespace" && d.metadata.namespace !== ns) P.push(`${d.kind}/${d.metadata.name} is not in namespace ${ns}`);
    }
  }
  if (overlay === "fleet") P.push(...fleetProblems(allDocs, dep, c, env, mount, vols));
  else if (allDocs.some(isDatabase)) P.push(`${overlay}: no database expected`);
  return P;
}

// fleet: the replicas share one job store in PostgreSQL (--job-store).
function fleetProblems(docs, dep, c, env, mount, vols) {
  const P = [];
  const ns = dep.metadata.namespace;
  const db = docs.filter(isDatabase);
  const named = (k, n) => docs.find((d) => d.kind === k && d.metadata.name === n);
  if (!(dep.spec.replicas >= 2)) P.push("fleet: the server StatefulSet must start with at least 2 replicas");
  // The DSN holds a password: from a Secret mounted read-only, never a ConfigMap.
  if (env.VIDEOGEN_JOB_STORE) P.push("fleet: VIDEOGEN_JOB_STORE must not be in the ConfigMap (it holds the password)");
  const file = env.VIDEOGEN_JOB_STORE_FILE || "";
  const dsnMount = (c.volumeMounts || []).find((m) => file.startsWith(m.mountPath + "/"));
  const dsnVol = dsnMount && vols[dsnMount.name];
  if (!dsnMount || !dsnMount.readOnly || !dsnVol || !dsnVol.secret)
    P.push(`fleet: VIDEOGEN_JOB_STORE_FILE "${file}" must be in a read-only Secret mount`);
  const replicaId = (c.env || []).find((e) => e.name === "VIDEOGEN_REPLICA_ID");
  if (!replicaId || ((replicaId.valueFrom || {}).fieldRef || {}).fieldPath !== "metadata.name")
    P.push("fleet: VIDEOGEN_REPLICA_ID must be the pod name (unique in the fleet)");
  // PostgreSQL: one StatefulSet, a Service on 5432, the password from the same Secret, restricted pods.
  const sets = db.filter((d) => d.kind === "StatefulSet");
  if (sets.length !== 1) return [...P, `fleet: expected one database StatefulSet, found ${sets.length}`];
  const pg = sets[0].spec.template.spec;
  const pgLabels = sets[0].spec.template.metadata.labels;
  const pgc = pg.containers[0];
  const svc = db.find((d) => d.kind === "Service" && matches(d.spec.selector, pgLabels) && Object.keys(d.spec.selector).length);
  if (!svc || !svc.spec.ports.some((p) => p.port === 5432)) P.push("fleet: no Service selects the database on port 5432");
  const pw = (pgc.env || []).find((e) => e.name === "POSTGRES_PASSWORD");
  const pwSecret = pw && pw.valueFrom && pw.valueFrom.secretKeyRef;
  if (!pwSecret || pwSecret.name !== dsnVol?.secret?.secretName)
    P.push("fleet: the database password must come from the Secret that holds the DSN");
  const psc = pg.securityContext || {};
  const csc = pgc.securityContext || {};
  if (!psc.runAsNonRoot && !csc.runAsNonRoot) P.push("fleet: the database must run as non-root");
  if (csc.readOnlyRootFilesystem !== true || csc.allowPrivilegeEscalation !== false) P.push("fleet: database container security");
  if (!((csc.capabilities || {}).drop || []).includes("ALL")) P.push("fleet: the database must drop ALL capabilities");
  if (((csc.seccompProfile || psc.seccompProfile) || {}).type !== "RuntimeDefault") P.push("fleet: database seccompProfile");
  if (pg.automountServiceAccountToken !== false) P.push("fleet: database automountServiceAccountToken must be false");
  if (!(sets[0].spec.volumeClaimTemplates || []).length) P.push("fleet: the database needs a volume claim");
  // Network: the servers may reach the database; only the servers may.
  const np = named("NetworkPolicy", "videogen");
  const reaches = (np.spec.egress || []).some((e) =>
    (e.to || []).some((t) => t.podSelector && matches(t.podSelector.matchLabels, pgLabels)) &&
    (e.ports || []).some((p) => p.port === 5432 || p.port === "postgres"));
  if (!reaches) P.push("fleet: the server NetworkPolicy must allow egress to the database on 5432");
  const dbNp = db.find((d) => d.kind === "NetworkPolicy");
  if (!dbNp || !matches(dbNp.spec.podSelector.matchLabels, pgLabels)) P.push("fleet: the database needs a NetworkPolicy");
  else if (!(dbNp.spec.ingress || []).every((i) => (i.from || []).every((f) =>
      f.podSelector && matches(f.podSelector.matchLabels, dep.spec.template.metadata.labels))))
    P.push("fleet: only the server pods may reach the database");
  // Autoscaling: every replica reports the whole fleet's queue depth, so max(), never sum().
  const so = docs.find((d) => d.kind === "ScaledObject");
  if (!so) return [...P, "fleet: KEDA ScaledObject missing"];
  if (so.spec.scaleTargetRef.name !== dep.metadata.name || so.spec.scaleTargetRef.kind !== "StatefulSet")
    P.push("fleet: ScaledObject does not target the server StatefulSet");
  const trig = so.spec.triggers.find((t) => t.type === "prometheus");
  if (!trig || !/max\s*\(\s*videogen_queue_depth\{/.test(trig.metadata.query) || /sum\s*\(\s*videogen_queue_depth/.test(trig.metadata.query))
    P.push("fleet: the ScaledObject must scale on max(videogen_queue_depth{...}) (the shared queue), not its sum");
  else {
    for (const p of require("./promql.js").nameProblems(trig.metadata.query)) P.push(`fleet ScaledObject query: ${p}`);
    const parse = promtoolParse(trig.metadata.query);
    if (parse) P.push(`fleet ScaledObject query does not parse: ${parse}`);
    const nss = [...trig.metadata.query.matchAll(/namespace\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
    const sels = (trig.metadata.query.match(/videogen_[a-z_]+\{/g) || []).length;
    if (nss.length !== sels || nss.some((n) => n !== ns)) P.push(`fleet: ScaledObject query must select namespace="${ns}"`);
  }
  return P;
}

// deploy/grafana: one ConfigMap for the Grafana sidecar holding the dashboard.
function dashboardProblems(docs) {
  const cms = docs.filter((d) => d.kind === "ConfigMap");
  if (docs.length !== 1 || cms.length !== 1) return ["deploy/grafana must render exactly one ConfigMap"];
  const cm = cms[0];
  const P = [];
  if ((cm.metadata.labels || {}).grafana_dashboard !== "1") P.push("dashboard ConfigMap lacks the label grafana_dashboard=1");
  const file = fs.readFileSync("deploy/grafana/dashboards/videogen.json", "utf8");
  if (!cm.data || cm.data["videogen.json"] !== file) P.push("dashboard ConfigMap does not hold deploy/grafana/dashboards/videogen.json");
  return P;
}

function main() {
  const [file, overlay] = process.argv.slice(2);
  if (!file || !["base", "cpu-demo", "gpu", "fleet", "grafana"].includes(overlay)) {
    process.stderr.write("usage: validate_k8s.js RENDERED.yaml base|cpu-demo|gpu|fleet|grafana\n");
    return 2;
  }
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter(Boolean);
  const contract = overlay === "grafana" ? dashboardProblems(docs) : contractProblems(docs, overlay);
  const problems = [...schemaProblems(docs), ...unknownFieldProblems(docs), ...contract];
  for (const p of problems) process.stderr.write(`FAIL ${overlay}: ${p}\n`);
  if (problems.length === 0) {
    process.stdout.write(`${overlay}: ${docs.length} objects valid (${docs.map((d) => d.kind).join(", ")})\n`);
  }
  return problems.length ? 1 : 0;
}

process.exitCode = main();

